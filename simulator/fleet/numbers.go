// Package fleet holds simlab's emulated subscribers: the numbering plan
// (which MSISDNs exist and what each one does by default), and the phones
// themselves, materialised lazily so that a million addressable subscribers
// cost memory only once they are used.
package fleet

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/smsc"
)

// Numbers in simlab's plan use country code 999, which ITU-T E.164 leaves
// spare, so they can never reach a real phone. All are 11 digits:
//
//	99900 OO NNNN   magic numbers: outcome OO (table below), index NNNN:
//	                10,000 numbers per outcome for parallel tests
//	99901 NNNNNN    the default fleet: 1,000,000 ordinary subscribers that
//	                approve unless scripted over the API
const (
	CountryCode  = "999"
	MagicPrefix  = "99900"
	FleetPrefix  = "99901"
	NumberLength = 11
	FleetSize    = 1_000_000
	MagicPerCode = 10_000
)

// Magic is what a magic number does by itself.
type Magic struct {
	Code int    `json:"code"`
	Name string `json:"name"`
	// Description says what a system under test sees.
	Description string `json:"description"`
	// Answer is the person's answer to every prompt ("" when the phone
	// never gets to prompt).
	Answer person.Step `json:"answer"`
	// Card and network conditions.
	NoNFC         bool `json:"no_nfc,omitempty"`         // a SIM without the authenticator applet
	NoPINSupport  bool `json:"no_pin_support,omitempty"` // applet without PIN (LoA2 only)
	PINBlocked    bool `json:"pin_blocked,omitempty"`    // the applet PIN starts blocked
	Absent        bool `json:"absent,omitempty"`         // switched off: the SMSC retries until validity
	DeliveryError bool `json:"delivery_error,omitempty"` // permanent delivery failure
	SIMError      bool `json:"sim_error,omitempty"`      // the card fails the SMS-PP download
}

// MagicOutcomes is the table of magic outcome codes (docs/numbers.md).
var MagicOutcomes = []Magic{
	{Code: 0, Name: "approve", Description: "confirms OK (LoA2) or types the right PIN (LoA3): approved", Answer: person.Step{Answer: person.AnswerApprove}},
	{Code: 1, Name: "cancel", Description: "presses cancel: cancelled", Answer: person.Step{Answer: person.AnswerCancel}},
	{Code: 2, Name: "ignore", Description: "never answers: the prompt times out, outcome timeout", Answer: person.Step{Answer: person.AnswerIgnore}},
	{Code: 3, Name: "wrong-pin", Description: "types a wrong PIN (LoA3): wrong_pin, tries left counting down to pin_blocked; confirms OK prompts", Answer: person.Step{Answer: person.AnswerWrongPIN}},
	{Code: 4, Name: "pin-blocked", Description: "the applet PIN is blocked: LoA3 gives pin_blocked without a prompt", Answer: person.Step{Answer: person.AnswerApprove}, PINBlocked: true},
	{Code: 5, Name: "no-nfc", Description: "a SIM without the authenticator applet: the challenge's TAR is unknown (PoR status 09), outcome sim_error; SMS+URL works", Answer: person.Step{Answer: person.AnswerApprove}, NoNFC: true},
	{Code: 6, Name: "no-pin-support", Description: "applet without PIN: LoA3 gives pin_not_supported, \"3,2\" falls back to OK (approved, acr 2)", Answer: person.Step{Answer: person.AnswerApprove}, NoPINSupport: true},
	{Code: 7, Name: "absent", Description: "switched off: not delivered; receipt UNDELIV when validity expires", Absent: true},
	{Code: 8, Name: "delivery-error", Description: "permanent delivery failure: receipt UNDELIV at once, outcome not_delivered", DeliveryError: true},
	{Code: 9, Name: "sim-error", Description: "the SIM fails the SMS-PP download: receipt UNDELIV with a (U)SIM data download error, outcome sim_error", SIMError: true},
	{Code: 10, Name: "busy", Description: "the phone cannot show the prompt (screen busy): busy", Answer: person.Step{Answer: person.AnswerBusy}},
	{Code: 11, Name: "slow", Description: "approves after 2 seconds", Answer: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(2 * time.Second)}},
	{Code: 12, Name: "very-slow", Description: "approves after 20 seconds (beyond short prompt timeouts)", Answer: person.Step{Answer: person.AnswerApprove, Delay: person.Duration(20 * time.Second)}},
}

// magicByCode is MagicOutcomes indexed by code.
var magicByCode = func() map[int]Magic {
	m := map[int]Magic{}
	for _, o := range MagicOutcomes {
		m[o.Code] = o
	}
	return m
}()

// Normalize strips "+", spaces and a leading "00" from an MSISDN and checks
// it is all digits (smsc.NormalizeNumber, the one normalisation of numbers).
func Normalize(msisdn string) (string, error) {
	d, ok := smsc.NormalizeNumber(msisdn)
	if !ok {
		return "", fmt.Errorf("fleet: %q is not an MSISDN", msisdn)
	}
	return d, nil
}

// Kind is where a number sits in the plan.
type Kind int

// Kinds of number.
const (
	KindUnknown Kind = iota // not simlab's: routed elsewhere (a bearer) or rejected
	KindMagic
	KindFleet
)

// Classify tells where a normalised MSISDN sits in the plan and, for a
// magic number, what it does.
func Classify(msisdn string) (Kind, Magic) {
	if len(msisdn) != NumberLength {
		return KindUnknown, Magic{}
	}
	switch {
	case strings.HasPrefix(msisdn, MagicPrefix):
		code, err := strconv.Atoi(msisdn[5:7])
		if err != nil {
			return KindUnknown, Magic{}
		}
		m, ok := magicByCode[code]
		if !ok {
			return KindUnknown, Magic{}
		}
		return KindMagic, m
	case strings.HasPrefix(msisdn, FleetPrefix):
		return KindFleet, Magic{}
	}
	return KindUnknown, Magic{}
}

// MagicNumberFor returns the index-th number (0..9999) with the named
// outcome, or an error for an unknown name.
func MagicNumberFor(name string, index int) (string, error) {
	if index < 0 || index >= MagicPerCode {
		return "", fmt.Errorf("fleet: index %d outside 0..%d", index, MagicPerCode-1)
	}
	for _, m := range MagicOutcomes {
		if m.Name == name {
			return fmt.Sprintf("%s%02d%04d", MagicPrefix, m.Code, index), nil
		}
	}
	return "", fmt.Errorf("fleet: no magic outcome %q", name)
}

// FleetNumber returns the index-th ordinary subscriber (0..999,999).
func FleetNumber(index int) string { return fmt.Sprintf("%s%06d", FleetPrefix, index) }
