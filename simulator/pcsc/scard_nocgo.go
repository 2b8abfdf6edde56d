//go:build !cgo

package pcsc

import "context"

// Supported reports whether this binary can talk to pcscd (built with cgo).
const Supported = false

// ListReaders needs cgo; this build returns ErrNotSupported.
func ListReaders(ctx context.Context) ([]Reader, error) { return nil, ErrNotSupported }

// Card is the card in a PC/SC reader; this build cannot open one.
type Card struct{}

// Open needs cgo; this build returns ErrNotSupported.
func Open(ctx context.Context, reader string) (*Card, error) { return nil, ErrNotSupported }

// Reader returns the reader's name (empty in this build).
func (c *Card) Reader() string { return "" }

// ATR returns nil in this build.
func (c *Card) ATR() []byte { return nil }

// Protocol returns "" in this build.
func (c *Card) Protocol() string { return "" }

// Transmit returns ErrNotSupported in this build.
func (c *Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	return nil, ErrNotSupported
}

// Reset returns ErrNotSupported in this build.
func (c *Card) Reset(ctx context.Context, cold bool) ([]byte, error) { return nil, ErrNotSupported }

// Close does nothing in this build.
func (c *Card) Close() error { return nil }

// Watch needs cgo; this build returns ErrNotSupported.
func Watch(ctx context.Context, fn func(Event)) error { return ErrNotSupported }
