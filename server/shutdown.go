package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Shutdown stops the health checkers, the admin server and every listener,
// and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.stopCopyWriter(ctx)
	s.closeOnce.Do(func() {
		if s.stopping != nil { // nil in servers tests assemble by hand
			close(s.stopping)
		}
	})
	s.notifier.Stop()
	admin := s.admin
	s.admin = nil
	s.mu.Unlock()

	// Neither wait may hold mu: a checker reporting or a status request
	// in flight may be waiting for it.
	errs := []error{s.checks.Stop(ctx)}
	if admin != nil {
		errs = append(errs, admin.Shutdown(ctx))
	}
	errs = append(errs, waitCtx(ctx, &s.background, "background work"))
	s.mu.Lock()
	defer s.mu.Unlock()
	errs = append(errs, s.listeners.Close(ctx))
	return errors.Join(errs...)
}

// waitCtx waits for wg, or for ctx to end.
func waitCtx(ctx context.Context, wg *sync.WaitGroup, what string) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}
