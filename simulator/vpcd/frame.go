// Package vpcd serves any applet.Card to pcscd through the vsmartcard
// virtual reader driver (Debian package vsmartcard-vpcd), so that every PC/SC
// application — simlab's own terminal, pcsc-tools' scriptor and pcsc_scan,
// pySim — can talk to an emulated card through the real PC/SC stack.
//
// The virtual card connects out to vpcd (TCP 35963 for the reader
// "Virtual PCD 00 00"). Both directions carry frames of a 2-byte big-endian
// length followed by the payload. A 1-byte payload from vpcd is a control
// command (power off, power on, reset, get ATR); anything longer is a
// command APDU answered with one frame holding the response APDU.
package vpcd

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DefaultAddr is where Debian's vpcd listens for the card of the reader
// "Virtual PCD 00 00" (/etc/reader.conf.d/vpcd, CHANNELID 0x8C7B).
const DefaultAddr = "127.0.0.1:35963"

// Control commands: the 1-byte payloads vpcd sends (vsmartcard vpcd.h).
const (
	CtrlPowerOff byte = 0x00 // power the card off; no reply
	CtrlPowerOn  byte = 0x01 // power the card on; no reply
	CtrlReset    byte = 0x02 // warm reset; no reply
	CtrlGetATR   byte = 0x04 // reply with one frame holding the ATR
)

// MaxPayload is the largest payload a frame can carry (the length is 16 bits).
const MaxPayload = 0xFFFF

// ErrFrame is wrapped by every framing error.
var ErrFrame = errors.New("vpcd: bad frame")

// DecodeFrame decodes one frame from the start of b. It returns the payload
// (aliasing b) and the number of bytes consumed. When b does not yet hold a
// whole frame it returns n == 0 and a nil error: the caller reads more.
// Frames are delimited by their length prefix only, never by reads: pcscd
// may coalesce several frames into one TCP segment (vsmartcard issue #253).
func DecodeFrame(b []byte) (payload []byte, n int, err error) {
	if len(b) < 2 {
		return nil, 0, nil
	}
	l := int(binary.BigEndian.Uint16(b))
	if l == 0 {
		return nil, 0, fmt.Errorf("%w at offset 0: expected a length of at least 1, got 0", ErrFrame)
	}
	if len(b) < 2+l {
		return nil, 0, nil
	}
	return b[2 : 2+l], 2 + l, nil
}

// AppendFrame appends payload framed with its 2-byte big-endian length.
func AppendFrame(dst, payload []byte) ([]byte, error) {
	if len(payload) > MaxPayload {
		return dst, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrFrame, len(payload), MaxPayload)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)))
	return append(dst, payload...), nil
}
