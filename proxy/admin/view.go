package admin

import (
	"html/template"
	"time"
)

// view is the data of the HTML page.
type view struct {
	Version  string
	Now      time.Time
	Accounts []AccountStatus
	// Counts by state, and open sessions in total.
	OK, NeedsConsent, Revoked, Sessions int
}

func newView(list []AccountStatus, version string, now time.Time) view {
	v := view{Version: version, Now: now, Accounts: list}
	for _, a := range list {
		switch a.State {
		case "ok":
			v.OK++
		case "needs_consent":
			v.NeedsConsent++
		case "revoked":
			v.Revoked++
		}
		if a.ActiveSessions > 0 {
			v.Sessions += a.ActiveSessions
		}
	}
	return v
}

// when formats a time for the table; zero is "never" / "-".
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ago says how long ago (or, negative, in how long) t is from now.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + (-d).String()
	}
	return d.String() + " ago"
}

var pageTemplate = template.Must(template.New("admin").Funcs(template.FuncMap{"when": when, "ago": ago}).Parse(pageHTML))

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oauthbridge status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;white-space:nowrap}
td.reason{white-space:normal;color:#555;font-size:.9em}
.ok{color:#176117}.needs_consent{color:#a15c00;font-weight:bold}.revoked{color:#a11}
small{color:#666}
</style></head><body>
<h1>oauthbridge status</h1>
<p>{{len .Accounts}} accounts: {{.OK}} ok, {{.NeedsConsent}} need consent, {{.Revoked}} revoked. {{.Sessions}} logged-in sessions open.</p>
<table>
<tr><th>Account</th><th>Provider</th><th>State</th><th>Last login</th><th>Last refresh</th><th>Token expires</th><th>Sessions</th><th>Why</th></tr>
{{range .Accounts}}<tr>
<td>{{.Account}}{{with .UpstreamUser}}<br><small>upstream {{.}}</small>{{end}}</td>
<td>{{.Provider}}</td>
<td class="{{.State}}">{{.StateText}}</td>
<td title="{{ago $.Now .LastLogin}}">{{when .LastLogin}}</td>
<td title="{{ago $.Now .LastRefresh}}">{{when .LastRefresh}}</td>
<td title="{{ago $.Now .TokenExpiry}}">{{when .TokenExpiry}}</td>
<td>{{if ge .ActiveSessions 0}}{{.ActiveSessions}}{{else}}?{{end}}</td>
<td class="reason">{{.Reason}}</td>
</tr>{{else}}<tr><td colspan="8">No accounts yet: run <code>oauthbridge authorize ACCOUNT</code> or log in once with a mail client.</td></tr>{{end}}
</table>
<p><small>Times in UTC. Generated {{when .Now}} by oauthbridge {{.Version}}. Metrics: <a href="/metrics">/metrics</a>.</small></p>
</body></html>
`
