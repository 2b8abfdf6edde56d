// Package vpcdtest holds a small ISO/IEC 7816-4 card for tests of the
// virtual card, the PC/SC terminal and the CLI, until (and beside) the
// emulated UICC. It answers SELECT of the MF in both T=0 style (61xx, then
// GET RESPONSE) and with Le (data + 9000), and TERMINAL PROFILE with 9000.
package vpcdtest

import (
	"bytes"
	"context"
	"slices"
	"sync"
)

// ATR is the test card's Answer To Reset: the one captured in applet/apdu/testdata/vectors.txt
// (direct convention, TA1=96, T=0, T=15 global bytes, 15 historical bytes).
var ATR = []byte{0x3B, 0x9F, 0x96, 0x80, 0x1F, 0x87, 0x80, 0x31, 0xE0, 0x73, 0xFE, 0x21, 0x1B, 0x67, 0x4A, 0x4C, 0x75, 0x30, 0x34, 0x05, 0x4B, 0xA9}

// MFFCP is the FCP template returned for the MF (ETSI TS 102 221 §11.1.1.3):
// file descriptor 78 21 (DF), file id 3F00, life cycle 05, security 8C.
var MFFCP = []byte{0x62, 0x12, 0x82, 0x02, 0x78, 0x21, 0x83, 0x02, 0x3F, 0x00, 0x8A, 0x01, 0x05, 0x8C, 0x03, 0x03, 0x00, 0x00, 0x81, 0x02, 0x00, 0x00}

// Card is a tiny UICC: the zero value is ready. Safe for concurrent use.
type Card struct {
	mu       sync.Mutex
	pending  []byte // data waiting for GET RESPONSE
	profile  []byte // last TERMINAL PROFILE
	resets   int
	commands [][]byte
}

// Resets returns how many times Reset was called.
func (c *Card) Resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

// Commands returns the command APDUs received so far.
func (c *Card) Commands() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.commands)
}

// TerminalProfile returns the last TERMINAL PROFILE data.
func (c *Card) TerminalProfile() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.profile)
}

// Reset clears the pending response and returns ATR.
func (c *Card) Reset(ctx context.Context, cold bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending = nil
	c.resets++
	return slices.Clone(ATR), nil
}

// Transmit answers SELECT 3F00, GET RESPONSE, TERMINAL PROFILE, STATUS.
func (c *Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, slices.Clone(capdu))
	if len(capdu) < 4 {
		return []byte{0x67, 0x00}, nil
	}
	ins, body := capdu[1], capdu[4:]
	switch ins {
	case 0xA4: // SELECT
		if len(body) < 3 || int(body[0]) < 2 || len(body) < 1+int(body[0]) {
			return []byte{0x67, 0x00}, nil
		}
		if !bytes.Equal(body[1:1+int(body[0])], []byte{0x3F, 0x00}) {
			return []byte{0x6A, 0x82}, nil
		}
		if len(body) == 1+int(body[0])+1 { // Le present (case 4)
			c.pending = nil
			return append(slices.Clone(MFFCP), 0x90, 0x00), nil
		}
		c.pending = slices.Clone(MFFCP)
		return []byte{0x61, byte(len(MFFCP))}, nil
	case 0xC0: // GET RESPONSE
		if c.pending == nil {
			return []byte{0x6F, 0x00}, nil
		}
		le := len(c.pending) // Le absent or 00: everything available
		if len(body) == 1 && body[0] != 0 {
			le = int(body[0])
		}
		switch {
		case le > len(c.pending):
			return []byte{0x6C, byte(len(c.pending))}, nil
		case le < len(c.pending):
			r := append(slices.Clone(c.pending[:le]), 0x61, byte(len(c.pending)-le))
			c.pending = c.pending[le:]
			return r, nil
		}
		r := append(c.pending, 0x90, 0x00)
		c.pending = nil
		return r, nil
	case 0x10: // TERMINAL PROFILE
		if len(body) < 1 || len(body) < 1+int(body[0]) {
			return []byte{0x67, 0x00}, nil
		}
		c.profile = slices.Clone(body[1 : 1+int(body[0])])
		return []byte{0x90, 0x00}, nil
	case 0xF2: // STATUS
		return []byte{0x90, 0x00}, nil
	}
	return []byte{0x6D, 0x00}, nil
}
