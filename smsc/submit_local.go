package smsc

import (
	"context"
	"errors"
)

// ErrQueueFull is returned by Submit when the destination's queue is at
// Server.QueueLimit (what a submit_sm gets as ESME_RMSGQFUL).
var ErrQueueFull = errors.New("smsc: the destination's queue is full")

// stamp stamps a message the server takes from inside the process
// (Submit, SubmitMO): id, direction, submit time, state, the default
// validity, the concatenation its UDH names.
func (s *Server) stamp(m *Message, d Direction) {
	now := s.Clock.Now()
	m.ID = s.newID()
	m.Direction = d
	m.SubmitTime = now
	m.State = Enroute
	if m.ValidUntil.IsZero() {
		m.ValidUntil = now.Add(s.dur(s.DefaultValidity, DefaultValidity))
	}
	if m.Concat == nil && len(m.UDH) > 0 {
		if c, ok := ConcatFromUDH(m.UDH); ok {
			m.Concat = &c
		}
	}
}

// Submit takes a mobile-terminated message from inside the process, as an
// ESME's submit_sm would bring it, without an SMPP bind: the web page's
// compose (POST /api/v1/messages) and Go code. It assigns ID, SubmitTime,
// Direction, State, validity and the concatenation and SIM-download marks,
// stores it and routes it like any submit (a phone, a bearer, a bind); the
// message has no account, so no receipt goes anywhere. It returns the id
// once the message is stored. Faults for submits do not apply: they stand
// for an ESME's SMPP session.
func (s *Server) Submit(ctx context.Context, m *Message) (string, error) {
	if err := s.init(); err != nil {
		return "", err
	}
	s.stamp(m, MT)
	m.SIMDownload = IsSIMDownload(m.PID, m.DCS, m.UDH)
	if s.engine.queueFull(m.Dest.Addr) {
		return "", ErrQueueFull
	}
	if err := s.Store.Append(ctx, m); err != nil {
		return "", err
	}
	s.counters.accepted.Add(1)
	s.emit(EventStored, m)
	sk, ob := s.engine.route(m)
	s.engine.dispatch(m, sk, ob)
	return m.ID, nil
}
