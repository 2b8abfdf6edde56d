package apdu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Transmitter sends one command APDU and returns the response APDU, status
// word included, without completing T=0 exchanges itself. applet.Card (the
// emulated UICC, a PC/SC card, a modem's SIM over AT+CSIM) satisfies it.
type Transmitter interface {
	Transmit(ctx context.Context, capdu []byte) (rapdu []byte, err error)
}

// MaxExchangeRounds bounds the APDUs one Exchange sends: a card that keeps
// answering 61xx must not hold the terminal forever.
const MaxExchangeRounds = 64

// ErrRounds means the card was still asking for GET RESPONSE (or a resend)
// after MaxExchangeRounds APDUs.
var ErrRounds = errors.New("apdu: the card kept asking for GET RESPONSE")

// Exchange sends capdu through t and completes the exchange the way a T=0
// terminal does (ISO/IEC 7816-3 §10.3.3 and 7816-4 §5.3.4, ETSI TS 102 221
// §7.3.1.1.4), so the caller sees the command's whole answer whatever
// transmission style the card uses:
//
//   - 61xx (9Fxx in the GSM class A0): xx bytes wait; GET RESPONSE with
//     Le xx in the class of the command it follows (TS 102 221 table 10.5),
//     its data appended to what came so far, until another status word;
//   - 6Cxx: wrong Le; the same command again with Le xx (appended to a
//     case 1 or case 3 command), its answer replacing any data so far;
//   - 62F3, 63F1, 63F2 without data: a warning with response data waiting
//     (TS 102 221 §10.2.1.1); GET RESPONSE with Le 00 fetches the data and
//     the warning.
//
// Other status words end the exchange. The returned data aliases the last
// response when no GET RESPONSE was needed. A response shorter than its two
// status bytes is an error, as is a card still asking after
// MaxExchangeRounds APDUs.
func Exchange(ctx context.Context, t Transmitter, capdu []byte) (Response, error) {
	if len(capdu) < 4 {
		return Response{}, &Error{Offset: len(capdu), Expected: "a 4-byte header CLA INS P1 P2", Err: ErrShort}
	}
	cmd := capdu
	var data []byte
	collected := false // data holds what earlier GET RESPONSEs brought
	original := true   // cmd is capdu, or capdu resent with another Le
	for range MaxExchangeRounds {
		r, err := t.Transmit(ctx, cmd)
		if err != nil {
			return Response{}, err
		}
		resp, err := ParseResponse(r)
		if err != nil {
			return Response{}, fmt.Errorf("apdu: response to %02X %02X: %w", cmd[0], cmd[1], err)
		}
		sw := resp.SW
		var next []byte
		switch {
		case sw.SW1() == 0x61 || sw.SW1() == 0x9F:
			next = getResponse(capdu[0], sw.SW2())
		case (sw == SWResponseDataAvailable || sw == SWMoreDataChanged || sw == SWMoreDataProactiveChg) && len(resp.Data) == 0:
			next = getResponse(capdu[0], 0x00)
		case sw.SW1() == 0x6C:
			// The last command again (the original one, or a GET
			// RESPONSE asking too much), unless it already had this Le.
			if again := withLe(cmd, sw.SW2()); again != nil && !bytes.Equal(again, cmd) {
				if original {
					data, collected = data[:0], false
				}
				cmd = again
				continue
			}
		}
		if next == nil {
			if !collected {
				return resp, nil
			}
			return Response{Data: append(data, resp.Data...), SW: sw}, nil
		}
		data, collected = append(data, resp.Data...), true
		cmd, original = next, false
	}
	return Response{}, ErrRounds
}

// getResponse is GET RESPONSE with Le le in the class of the command cla
// it follows, without the command chaining bit (TS 102 221 §10.1.1).
func getResponse(cla, le byte) []byte {
	return []byte{cla &^ 0x10, INSGetResponse, 0x00, 0x00, le}
}

// withLe returns the short command c with its Le set to le, or nil when c
// is not a well-formed short command.
func withLe(c []byte, le byte) []byte {
	body := c[4:]
	out := make([]byte, 0, len(c)+1)
	out = append(out, c[:4]...)
	switch {
	case len(body) <= 1: // case 1 or 2
		return append(out, le)
	case body[0] != 0 && int(body[0])+1 == len(body): // case 3
		return append(append(out, body...), le)
	case body[0] != 0 && int(body[0])+2 == len(body): // case 4
		return append(append(out, body[:len(body)-1]...), le)
	}
	return nil
}
