package securitytest

import (
	"runtime"
	"sync"
	"time"
)

// heapWatch samples the heap in use while a test runs, to show that a
// hostile client does not make it grow with what it sends.
type heapWatch struct {
	base      uint64
	baseAlloc uint64 // TotalAlloc at the start
	stop      chan struct{}
	wg        sync.WaitGroup
	mu        sync.Mutex
	peak      uint64
}

// watchHeap collects garbage, notes the heap in use, and samples it every
// 5 ms until end.
func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapWatch{base: ms.HeapInuse, baseAlloc: ms.TotalAlloc, peak: ms.HeapInuse, stop: make(chan struct{})}
	h.wg.Add(1)
	go h.sample()
	return h
}

func (h *heapWatch) sample() {
	defer h.wg.Done()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		h.note()
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
	}
}

func (h *heapWatch) note() runtime.MemStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.mu.Lock()
	h.peak = max(h.peak, ms.HeapInuse)
	h.mu.Unlock()
	return ms
}

// end stops sampling and returns the largest growth of the heap in use
// over the baseline, and how much was allocated meanwhile in all (which
// would grow with the input if anything copied it).
func (h *heapWatch) end() (growth, allocated uint64) {
	close(h.stop)
	h.wg.Wait()
	ms := h.note()
	return h.peak - h.base, ms.TotalAlloc - h.baseAlloc
}

const mib = 1 << 20
