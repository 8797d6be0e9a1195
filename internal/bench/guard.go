package bench

import "fmt"

// Guard lists gross regressions in a report: the kind a short CI run can
// catch on a busy machine without false alarms. Fine targets are judged
// in the table, not here.
func Guard(r *Report) []string {
	var out []string
	if t := r.Throughput; t != nil && t.ProxyRate() < t.DirectRate()/2 {
		out = append(out, fmt.Sprintf("throughput %s is below half of direct %s", mibps(t.ProxyRate()), mibps(t.DirectRate())))
	}
	for _, s := range []*StormResult{r.Storm, r.StormRefused} {
		if s != nil && s.Refreshes != 1 {
			out = append(out, fmt.Sprintf("%d refreshes for %d concurrent logins after expiry, want 1", s.Refreshes, s.Logins))
		}
	}
	// Failed logins count only in the storm after expiry by the clock: the
	// storm after an upstream refusal can lose a login to a known race in
	// the broker (a refused token judged usable again right after the
	// refresh), which the table reports but CI should not flap on.
	if s := r.Storm; s != nil && s.Failures > 0 {
		out = append(out, fmt.Sprintf("%d of %d storm logins failed: %v", s.Failures, s.Logins, s.FirstError))
	}
	if l := r.Latency; l != nil && l.ProxyFailures > 0 {
		out = append(out, fmt.Sprintf("%d logins through the proxy failed: %v", l.ProxyFailures, l.FirstError))
	}
	if i := r.Idle; i != nil {
		if i.Failures > 0 {
			out = append(out, fmt.Sprintf("%d idle sessions failed: %v", i.Failures, i.FirstError))
		}
		if i.GoAfter > i.GoBefore+10 {
			out = append(out, fmt.Sprintf("goroutines leaked: %d before the sessions, %d after they closed", i.GoBefore, i.GoAfter))
		}
	}
	return out
}
