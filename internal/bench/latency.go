package bench

import (
	"context"
	"slices"
	"sync"
	"time"
)

// LatencyResult holds connect-to-OK times of logins started at a steady
// rate, by leg.
type LatencyResult struct {
	Rate           int
	Direct, Proxy  Latencies
	DirectFailures int
	ProxyFailures  int
	FirstError     error
	MachineBusy    float64
}

// Latencies are login times, sorted.
type Latencies []time.Duration

// Quantile returns the q-quantile (0 < q <= 1) by the nearest-rank
// method, or 0 without samples.
func (l Latencies) Quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(float64(len(l))*q+0.999999) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// Latency starts logins at rate per second for dur on each leg, in
// alternating one-second blocks (so that both legs see the same
// background load), each login on its own new connection, and records
// how long each took from dialling to the tagged OK.
func Latency(ctx context.Context, direct, proxied Leg, rate int, dur time.Duration) LatencyResult {
	res := LatencyResult{Rate: rate}
	var mu sync.Mutex
	var wg sync.WaitGroup
	record := func(proxy bool, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && res.FirstError == nil {
			res.FirstError = err
		}
		switch {
		case err != nil && proxy:
			res.ProxyFailures++
		case err != nil:
			res.DirectFailures++
		case proxy:
			res.Proxy = append(res.Proxy, d)
		default:
			res.Direct = append(res.Direct, d)
		}
	}
	interval := time.Second / time.Duration(rate)
	blocks := int(dur/time.Second) * 2
	m0 := ReadMachine()
	for b := range max(blocks, 2) {
		leg, proxy := direct, b%2 == 1
		if proxy {
			leg = proxied
		}
		tick := time.NewTicker(interval)
		for range rate {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				c, err := leg.Open(ctx)
				d := time.Since(start)
				if err == nil {
					c.Close()
				}
				record(proxy, d, err)
			}()
			<-tick.C
		}
		tick.Stop()
	}
	wg.Wait()
	m := ReadMachine().Sub(m0)
	res.MachineBusy = float64(m.Busy) / float64(m.Total)
	slices.Sort(res.Direct)
	slices.Sort(res.Proxy)
	return res
}
