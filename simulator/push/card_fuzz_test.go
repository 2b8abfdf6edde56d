package push_test

import (
	"context"
	"testing"

	"github.com/simlab-dev/simlab/simulator/push"
)

// scriptedCard answers each command with the next canned response.
type scriptedCard struct{ resp [][]byte }

func (c *scriptedCard) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if len(c.resp) == 0 {
		return []byte{0x6F, 0x00}, nil
	}
	r := c.resp[0]
	c.resp = c.resp[1:]
	return r, nil
}

func (c *scriptedCard) Reset(ctx context.Context, cold bool) ([]byte, error) { return nil, nil }

// FuzzReadICCID feeds ReadICCID arbitrary card answers (split in two: the
// SELECT's and the READ BINARY's): it must never panic, and an ICCID it
// returns is 18 to 20 digits.
func FuzzReadICCID(f *testing.F) {
	// EF_ICCID of the default profile, 8999901000000000005 (TS 102 221
	// §13.2 swapped BCD), T=0 and direct styles.
	f.Add([]byte{0x61, 0x1E}, []byte{0x98, 0x99, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF5, 0x90, 0x00})
	f.Add([]byte{0x90, 0x00}, []byte{0x6C, 0x0A})
	f.Add([]byte{0x6E, 0x00}, []byte{0x9F, 0x0F})
	f.Add([]byte{}, []byte{0x61})
	f.Fuzz(func(t *testing.T, sel, read []byte) {
		card := &scriptedCard{resp: [][]byte{sel, read, read, sel, read}}
		iccid, err := push.ReadICCID(context.Background(), card)
		if err != nil {
			return
		}
		if len(iccid) < 18 || len(iccid) > 20 {
			t.Fatalf("ICCID %q", iccid)
		}
	})
}
