package login

import "time"

// SetClock replaces the throttle's clock, so tests can let an attacker
// "wait out" hours of lockouts in no time.
func SetClock(s *Service, now func() time.Time) {
	s.throttle.mu.Lock()
	defer s.throttle.mu.Unlock()
	s.throttle.now = now
}
