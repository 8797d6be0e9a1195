package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oauthbridge/oauthbridge/tokenstore"
)

// AccountsCacheTTL is how long one listing of the store serves scrapes:
// Prometheus scrapes every 15-60 s, and a store with thousands of records
// need not be listed that often.
var AccountsCacheTTL = 30 * time.Second

// accountsListTimeout bounds one listing during a scrape.
const accountsListTimeout = 5 * time.Second

// AccountStates are the values of the state label of oauthbridge_accounts.
var AccountStates = []string{string(tokenstore.StatusOK), string(tokenstore.StatusNeedsConsent), string(tokenstore.StatusRevoked)}

// WatchAccounts registers oauthbridge_accounts{provider,state}, counted
// from store at scrape time. providers returns the configured provider
// names, which always appear (with zeros), so a series does not vanish
// when its last account changes state.
func (m *Metrics) WatchAccounts(store tokenstore.Store, providers func() []string) {
	m.reg.MustRegister(&accountsCollector{
		desc: prometheus.NewDesc(namespace+"_accounts", "Accounts in the token store by provider and state.",
			[]string{"provider", "state"}, nil),
		errDesc: prometheus.NewDesc(namespace+"_accounts_list_errors_total", "Failed listings of the token store while scraping.",
			nil, nil),
		store: store, providers: providers,
	})
}

type accountsCollector struct {
	desc, errDesc *prometheus.Desc
	store         tokenstore.Store
	providers     func() []string

	mu      sync.Mutex
	counts  map[[2]string]int
	fetched time.Time
	errors  int
}

// Describe implements prometheus.Collector.
func (c *accountsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.errDesc }

// Collect implements prometheus.Collector. A failed listing keeps the
// previous counts and counts the failure.
func (c *accountsCollector) Collect(ch chan<- prometheus.Metric) {
	counts, errs := c.current()
	for _, p := range c.providers() {
		for _, st := range AccountStates {
			k := [2]string{p, st}
			if _, ok := counts[k]; !ok {
				counts[k] = 0
			}
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
	ch <- prometheus.MustNewConstMetric(c.errDesc, prometheus.CounterValue, float64(errs))
}

// current returns a copy of the cached counts, listing the store first
// when they are older than AccountsCacheTTL.
func (c *accountsCollector) current() (map[[2]string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil || time.Since(c.fetched) >= AccountsCacheTTL {
		c.refresh()
	}
	out := make(map[[2]string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out, c.errors
}

func (c *accountsCollector) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), accountsListTimeout)
	defer cancel()
	recs, err := c.store.List(ctx)
	c.fetched = time.Now()
	if err != nil {
		c.errors++
		return
	}
	counts := map[[2]string]int{}
	for _, r := range recs {
		counts[[2]string{r.Provider, stateLabel(r.Status)}]++
	}
	c.counts = counts
}

func stateLabel(s tokenstore.Status) string {
	switch s {
	case tokenstore.StatusOK, tokenstore.StatusNeedsConsent, tokenstore.StatusRevoked:
		return string(s)
	}
	return "other"
}
