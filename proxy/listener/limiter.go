package listener

// Limiter bounds the number of open connections. One Limiter may be shared
// by several Servers to bound them together.
type Limiter struct {
	slots chan struct{}
}

// NewLimiter returns a Limiter allowing n connections (at least 1).
func NewLimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1))}
}

// TryAcquire takes a slot if one is free, without waiting: a proxy at its
// limit must refuse at once rather than queue clients that will time out.
func (l *Limiter) TryAcquire() bool {
	if l == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release frees a slot taken by TryAcquire.
func (l *Limiter) Release() {
	if l != nil {
		<-l.slots
	}
}

// InUse reports how many slots are taken.
func (l *Limiter) InUse() int {
	if l == nil {
		return 0
	}
	return len(l.slots)
}
