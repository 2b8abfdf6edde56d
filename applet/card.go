// Package applet holds the card side of simlab: codecs for what travels
// between a handset and a SIM (tlv, apdu, cat, ota), the emulated UICC (uicc)
// and the authenticator applet (authn). This file defines the Card seam that
// every card implementation satisfies: the emulated UICC, a real card in a
// PC/SC reader, and a modem's SIM reached through AT+CSIM.
package applet

import "context"

// Card is a smart card as a terminal sees it (ISO/IEC 7816-4, ETSI TS 102 221).
//
// Transmit sends one command APDU and returns the response APDU including its
// two status-word bytes. It does not chain GET RESPONSE: a T=0 style answer of
// 61xx or 9Fxx is returned as is, and the caller decides.
//
// Reset powers the card on again (cold) or resets it (warm), clears its
// volatile state (selected files, verified PINs, proactive sessions) and
// returns the Answer To Reset.
type Card interface {
	Transmit(ctx context.Context, capdu []byte) (rapdu []byte, err error)
	Reset(ctx context.Context, cold bool) (atr []byte, err error)
}
