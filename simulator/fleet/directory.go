package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/simulator/person"
)

// Directory describes a fleet's plan as a sender of challenges needs it:
// every range of numbers with the identity of its first card. A push server
// derives a card's OTA and signing keys from simlab's demo masters and the
// card's ICCID (fixtures/keys), and the ICCID from the number through the
// directory (Identity), so a sender with the directory of the plan a server
// runs seals challenges its cards accept. It holds no key. GET
// /api/v1/numbers serves the running server's (docs/api.md); Plan.Directory
// makes one from a fleet file; DefaultDirectory is the embedded plan's.
type Directory struct {
	Ranges []RangeInfo `json:"ranges"`
}

// RangeInfo is one range of a Directory, in the plan's order.
type RangeInfo struct {
	// Name and Description are the range's (docs/fleet.md); Code is the
	// outcome code of a range named after a magic outcome of
	// docs/numbers.md, absent otherwise.
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Code        *int   `json:"code,omitempty"`
	// Range is the first and last number, with a leading +; Size how many
	// numbers there are.
	Range [2]string `json:"range"`
	Size  uint64    `json:"size"`
	// CardIndex is the subscriber index of the first number's card; ICCID
	// and IMSI are that card's. The card of the k-th number of the range
	// has ICCID + k (its Luhn digit recomputed) and IMSI + k, as
	// uicc.Profile.Subscriber makes them.
	CardIndex uint64 `json:"card_index"`
	ICCID     string `json:"iccid"`
	IMSI      string `json:"imsi"`
	// Answer is what the range's phones answer until scripted; the rest
	// are the card and network conditions of the range (see Magic).
	Answer        person.Step `json:"answer"`
	NoNFC         bool        `json:"no_nfc,omitempty"`
	NoPINSupport  bool        `json:"no_pin_support,omitempty"`
	PINBlocked    bool        `json:"pin_blocked,omitempty"`
	Absent        bool        `json:"absent,omitempty"`
	DeliveryError bool        `json:"delivery_error,omitempty"`
	SIMError      bool        `json:"sim_error,omitempty"`
}

// Directory returns the plan's directory, reading the card profiles its
// ranges name (relative to the fleet file, as LoadPlan read it).
func (p *Plan) Directory() (*Directory, error) {
	ix, err := p.resolve()
	if err != nil {
		return nil, err
	}
	if err := p.loadCards(ix, nil); err != nil {
		return nil, err
	}
	return directory(ix)
}

// Directory returns the directory of the plan the fleet runs.
func (f *Fleet) Directory() *Directory {
	d, _ := directory(f.plan) // a range whose first card overflows keeps its ICCID empty
	return d
}

// DefaultDirectory returns the embedded plan's directory (DefaultPlan).
func DefaultDirectory() *Directory {
	d, err := defaultDirectory()
	if err != nil {
		panic(err) // the embedded plan and profile are checked by TestDefaultDirectory
	}
	return d
}

var defaultDirectory = sync.OnceValues(func() (*Directory, error) { return DefaultPlan().Directory() })

func directory(ix planIndex) (*Directory, error) {
	d := &Directory{Ranges: make([]RangeInfo, 0, len(ix))}
	var firstErr error
	for i, r := range ix {
		ri := RangeInfo{Name: r.name, Description: r.magic.Description, Range: [2]string{"+" + r.from, "+" + r.to},
			Size: r.hi - r.lo + 1, CardIndex: r.cardIndex, Answer: r.magic.Answer,
			NoNFC: r.magic.NoNFC, NoPINSupport: r.magic.NoPINSupport, PINBlocked: r.magic.PINBlocked,
			Absent: r.magic.Absent, DeliveryError: r.magic.DeliveryError, SIMError: r.magic.SIMError}
		for _, m := range MagicOutcomes {
			if m.Name == r.name && r.name != "" {
				ri.Code = &m.Code
			}
		}
		if card, err := r.tmpl.Subscriber(r.cardIndex); err == nil {
			ri.ICCID, ri.IMSI = card.ICCID, card.IMSI
		} else if firstErr == nil {
			firstErr = fmt.Errorf("%w: ranges[%d].card_index: %v", ErrPlan, i, err)
		}
		d.Ranges = append(d.Ranges, ri)
	}
	return d, firstErr
}

// Range returns the range msisdn is in, or ErrNotInPlan.
func (d *Directory) Range(msisdn string) (*RangeInfo, error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return nil, err
	}
	if r, _ := d.find(n); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
}

// find returns the range of a normalised number and the number's offset
// in it.
func (d *Directory) find(n string) (*RangeInfo, uint64) {
	if len(n) > maxDigits || !isDigits(n) {
		return nil, 0
	}
	v := digitsValue(n)
	for i := range d.Ranges {
		r := &d.Ranges[i]
		lo := strings.TrimPrefix(r.Range[0], "+")
		if len(lo) != len(n) {
			continue
		}
		first, err := strconv.ParseUint(lo, 10, 64)
		if err != nil || v < first || v-first >= r.Size {
			continue
		}
		return r, v - first
	}
	return nil, 0
}

// Identity returns the ICCID and IMSI of the card behind msisdn in the
// directory's plan, or an error wrapping ErrNotInPlan.
func (d *Directory) Identity(msisdn string) (iccid, imsi string, err error) {
	n, err := Normalize(msisdn)
	if err != nil {
		return "", "", err
	}
	r, k := d.find(n)
	if r == nil {
		return "", "", fmt.Errorf("%w: %s", ErrNotInPlan, msisdn)
	}
	if r.ICCID == "" {
		return "", "", fmt.Errorf("fleet: %s: the directory gives no ICCID for range %s-%s", msisdn, r.Range[0], r.Range[1])
	}
	// The range's first card as a template: Subscriber adds k to its
	// ICCID and IMSI (and to the number, which stays within the range).
	first := uicc.Profile{ICCID: r.ICCID, IMSI: r.IMSI, MSISDN: r.Range[0]}
	if first.IMSI == "" { // a directory may omit it: only the ICCID keys the card
		first.IMSI = strings.Repeat("0", 15)
	}
	card, err := first.Subscriber(k)
	if err != nil {
		return "", "", fmt.Errorf("fleet: %s: %w", msisdn, err)
	}
	if r.IMSI == "" {
		return card.ICCID, "", nil
	}
	return card.ICCID, card.IMSI, nil
}

// ParseDirectory reads a directory as GET /api/v1/numbers serves it (other
// members of the document are ignored) and checks it: every range with
// numbers of equal length in order, its size matching, digits for the
// first card's ICCID and IMSI. A document without ranges is an error.
func ParseDirectory(b []byte) (*Directory, error) {
	var d Directory
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("fleet: directory: %w", err)
	}
	if len(d.Ranges) == 0 {
		return nil, errors.New("fleet: directory: no ranges")
	}
	for i := range d.Ranges {
		if err := d.Ranges[i].check(); err != nil {
			return nil, fmt.Errorf("fleet: directory: ranges[%d]: %w", i, err)
		}
	}
	return &d, nil
}

func (r *RangeInfo) check() error {
	lo, hi := strings.TrimPrefix(r.Range[0], "+"), strings.TrimPrefix(r.Range[1], "+")
	if lo == "" || len(lo) > maxDigits || !isDigits(lo) || len(hi) != len(lo) || !isDigits(hi) || hi < lo {
		return fmt.Errorf("range %q-%q is not two numbers of equal length in order", r.Range[0], r.Range[1])
	}
	if size := digitsValue(hi) - digitsValue(lo) + 1; r.Size != size {
		return fmt.Errorf("size %d, but the range holds %d numbers", r.Size, size)
	}
	if r.ICCID != "" && (len(r.ICCID) < 2 || len(r.ICCID) > 20 || !isDigits(r.ICCID)) {
		return fmt.Errorf("iccid %q is not 2 to 20 digits", r.ICCID)
	}
	if r.IMSI != "" && (len(r.IMSI) > 15 || !isDigits(r.IMSI)) {
		return fmt.Errorf("imsi %q is not up to 15 digits", r.IMSI)
	}
	return nil
}
