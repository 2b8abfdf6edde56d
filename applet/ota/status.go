package ota

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the Response Status Code of a PoR (TS 102 225 §5.2, Response Status Codes).
type Status uint8

// PoR status codes (TS 102 225 §5.2).
const (
	StatusOK                   Status = 0x00 // PoR OK
	StatusIntegrityFailed      Status = 0x01 // RC/CC/DS failed
	StatusCounterLow           Status = 0x02 // CNTR low
	StatusCounterHigh          Status = 0x03 // CNTR high
	StatusCounterBlocked       Status = 0x04 // CNTR blocked
	StatusCipheringError       Status = 0x05 // ciphering error
	StatusUndefinedSecurity    Status = 0x06 // unidentified security error
	StatusInsufficientMemory   Status = 0x07 // insufficient memory to process incoming message
	StatusMoreTime             Status = 0x08 // more time needed to process the command
	StatusTARUnknown           Status = 0x09 // TAR unknown
	StatusInsufficientSecurity Status = 0x0A // insufficient security level
	StatusResponseInSubmit     Status = 0x0B // actual response data to be sent using SMS-SUBMIT
	StatusResponseInUSSD       Status = 0x0C // actual response data to be sent using a USSD string
)

var statusNames = [...]string{
	"ok", "rc/cc/ds failed", "counter low", "counter high", "counter blocked",
	"ciphering error", "unidentified security error", "insufficient memory",
	"more time needed", "TAR unknown", "insufficient security level",
	"response follows in SMS-SUBMIT", "response follows in USSD",
}

// String returns the status's meaning, e.g. "counter low".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status %02x", uint8(s))
}

// Sentinel errors, wrapped with %w by the functions of this package.
var (
	ErrMalformed     = errors.New("ota: malformed packet")
	ErrUnsupported   = errors.New("ota: unsupported")
	ErrKeyLength     = errors.New("ota: key length")
	ErrNoKey         = errors.New("ota: no key for the keyset")
	ErrIntegrity     = errors.New("ota: RC/CC check failed")
	ErrCipher        = errors.New("ota: ciphering error")
	ErrCounterLow    = errors.New("ota: counter low")
	ErrCounterHigh   = errors.New("ota: counter high")
	ErrCounterBlock  = errors.New("ota: counter blocked")
	ErrTARUnknown    = errors.New("ota: TAR unknown")
	ErrSecurityLevel = errors.New("ota: insufficient security level")
	ErrTooLong       = errors.New("ota: packet too long")
)

// DecodeError says where decoding failed: the byte offset in the input and
// what was expected there. It wraps ErrMalformed.
type DecodeError struct {
	Offset int    // offset in the input, from the first byte given
	Field  string // field being decoded, e.g. "CHL"
	Msg    string // what was expected
}

// Error says which field failed at which offset.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("ota: %s at offset %d: %s", e.Field, e.Offset, e.Msg)
}

// Unwrap returns ErrMalformed.
func (e *DecodeError) Unwrap() error { return ErrMalformed }

func decodeErr(off int, field, format string, args ...any) error {
	return &DecodeError{Offset: off, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// StatusError is the card side's answer to a command packet it refused:
// the PoR status to report and the reason. Header is set (HeaderValid)
// when the packet's header could be parsed, so a PoR can be addressed.
type StatusError struct {
	Status      Status
	Header      CommandHeader
	HeaderValid bool
	// Counter is the received CNTR; CounterValid is set when it was read
	// from an authenticated packet (counter and padding failures).
	Counter      Counter
	CounterValid bool
	Err          error
}

// Error gives the PoR status and the reason.
func (e *StatusError) Error() string {
	return fmt.Sprintf("ota: PoR status %02x (%s): %s", uint8(e.Status), e.Status, strings.TrimPrefix(e.Err.Error(), "ota: "))
}

// Unwrap returns the reason.
func (e *StatusError) Unwrap() error { return e.Err }

// ResponseHeader returns the header to seal the PoR for this failure with
// (SealResponse). When the packet's RC/CC was verified (counter failures,
// statuses 02-04) the PoR keeps the security the SPI asks for; otherwise
// the keys or the request cannot be trusted and simlab sends the PoR
// without RC/CC and unciphered.
func (e *StatusError) ResponseHeader() CommandHeader {
	h := e.Header
	if !e.CounterValid {
		h.SPI.PoRIntegrity = IntegrityNone
		h.SPI.PoRCiphered = false
	}
	return h
}

// StatusOf returns the PoR status an error from OpenCommand stands for:
// StatusOK for nil, the StatusError's status, and StatusUndefinedSecurity
// for anything else.
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return StatusUndefinedSecurity
}
