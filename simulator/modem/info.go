package modem

import (
	"context"
	"errors"
	"fmt"
	"github.com/simlab-dev/simlab/applet/uicc"
	"strings"
)

// Info is what a modem says about itself, its SIM and the network.
type Info struct {
	Manufacturer string `json:"manufacturer,omitempty"` // +CGMI, TS 27.007 §5.1
	Model        string `json:"model,omitempty"`        // +CGMM, §5.2
	Revision     string `json:"revision,omitempty"`     // +CGMR, §5.3
	IMEI         string `json:"imei,omitempty"`         // +CGSN, §5.4
	IMSI         string `json:"imsi,omitempty"`         // +CIMI, §5.6
	ICCID        string `json:"iccid,omitempty"`        // +CCID / +ICCID / EF_ICCID via +CRSM
	SIM          string `json:"sim,omitempty"`          // +CPIN?, §8.3: READY, SIM PIN, …
	// Signal is +CSQ decoded, §8.5.
	Signal *Signal `json:"signal,omitempty"`
	// Registrations holds +CREG, +CGREG and +CEREG as far as the modem
	// answers them.
	Registrations []Registration `json:"registrations,omitempty"`
	// Operator is +COPS? in long alphanumeric format, §7.3.
	Operator *Operator `json:"operator,omitempty"`
	// SMSC is the service centre address, +CSCA? (TS 27.005 §3.3.1).
	SMSC string `json:"smsc,omitempty"`
	// Errors names the queries the modem refused and why; a modem without
	// a SIM, for example, refuses +CIMI.
	Errors map[string]string `json:"errors,omitempty"`
}

// Registered reports whether any registration says home or roaming.
func (i *Info) Registered() bool {
	for _, r := range i.Registrations {
		if r.Registered() {
			return true
		}
	}
	return false
}

// Info queries identity, SIM, signal, registration, operator and SMSC. A
// query the modem refuses is recorded in Info.Errors; Info fails only when
// the modem stops answering or ctx ends.
func (m *Modem) Info(ctx context.Context) (*Info, error) {
	info := &Info{Errors: map[string]string{}}
	fail := func(key string, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-m.Closed():
			return fmt.Errorf("modem: connection lost: %w", err)
		default:
		}
		info.Errors[key] = err.Error()
		return nil
	}
	ident := []struct {
		cmd string
		dst *string
	}{
		{"+CGMI", &info.Manufacturer}, {"+CGMM", &info.Model}, {"+CGMR", &info.Revision},
		{"+CGSN", &info.IMEI}, {"+CIMI", &info.IMSI},
	}
	for _, q := range ident {
		lines, err := m.Command(ctx, q.cmd)
		if err == nil {
			*q.dst, err = value(lines, q.cmd)
		}
		if err != nil {
			if e := fail(q.cmd, err); e != nil {
				return nil, e
			}
		}
	}
	if iccid, err := m.ICCID(ctx); err == nil {
		info.ICCID = iccid
	} else if e := fail("iccid", err); e != nil {
		return nil, e
	}
	if lines, err := m.Command(ctx, "+CPIN?"); err == nil {
		if l, err := line(lines, "+CPIN"); err == nil {
			info.SIM = strings.TrimSpace(strings.TrimPrefix(l, "+CPIN:"))
		}
	} else if e := fail("+CPIN", err); e != nil {
		return nil, e
	}
	if lines, err := m.Command(ctx, "+CSQ"); err == nil {
		l, err := line(lines, "+CSQ")
		if err == nil {
			var s Signal
			if s, err = ParseCSQ(l); err == nil {
				info.Signal = &s
			}
		}
		if err != nil {
			info.Errors["+CSQ"] = err.Error()
		}
	} else if e := fail("+CSQ", err); e != nil {
		return nil, e
	}
	for _, cmd := range []string{"+CREG", "+CGREG", "+CEREG"} {
		lines, err := m.Command(ctx, cmd+"?")
		if err == nil {
			var l string
			if l, err = line(lines, cmd); err == nil {
				var r Registration
				if r, err = ParseRegistration(l, cmd); err == nil {
					info.Registrations = append(info.Registrations, r)
				}
			}
		}
		if err != nil {
			if e := fail(cmd, err); e != nil {
				return nil, e
			}
		}
	}
	// Long alphanumeric operator names; a modem that refuses the format
	// change still answers the query in its own format.
	_, _ = m.Command(ctx, "+COPS=3,0")
	if lines, err := m.Command(ctx, "+COPS?"); err == nil {
		l, err := line(lines, "+COPS")
		if err == nil {
			var op Operator
			if op, err = ParseCOPS(l); err == nil {
				info.Operator = &op
			}
		}
		if err != nil {
			info.Errors["+COPS"] = err.Error()
		}
	} else if e := fail("+COPS", err); e != nil {
		return nil, e
	}
	if lines, err := m.Command(ctx, "+CSCA?"); err == nil {
		l, err := line(lines, "+CSCA")
		if err == nil {
			info.SMSC, err = ParseCSCA(l)
		}
		if err != nil {
			info.Errors["+CSCA"] = err.Error()
		}
	} else if e := fail("+CSCA", err); e != nil {
		return nil, e
	}
	if len(info.Errors) == 0 {
		info.Errors = nil
	}
	return info, nil
}

// ICCID reads the SIM's ICCID: AT+CCID or AT+ICCID where the modem has
// them, else EF_ICCID (2FE2) through restricted SIM access, AT+CRSM
// (TS 27.007 §8.18; the file holds the digits nibble-swapped, TS 102 221
// §13.2).
func (m *Modem) ICCID(ctx context.Context) (string, error) {
	var errs []error
	for _, cmd := range []string{"+CCID", "+ICCID"} {
		lines, err := m.Command(ctx, cmd)
		if err == nil {
			v, err := value(lines, cmd)
			if err == nil {
				return v, nil
			}
			errs = append(errs, err)
			continue
		}
		errs = append(errs, err)
	}
	lines, err := m.Command(ctx, "+CRSM=176,12258,0,0,10")
	if err == nil {
		var l string
		if l, err = line(lines, "+CRSM"); err == nil {
			var iccid string
			if iccid, err = parseCRSMICCID(l); err == nil {
				return iccid, nil
			}
		}
	}
	errs = append(errs, err)
	return "", errors.Join(errs...)
}

// parseCRSMICCID decodes "+CRSM: <sw1>,<sw2>,<response>" holding EF_ICCID.
func parseCRSMICCID(l string) (string, error) {
	f, err := fields(l, "+CRSM")
	if err != nil {
		return "", err
	}
	if len(f) < 3 || f[0] != "144" {
		return "", malformed("+CRSM", 0, "sw1 144 (90) and a response")
	}
	b, err := hexField("+CRSM", f[2])
	if err != nil {
		return "", err
	}
	return uicc.DecodeICCID(b), nil
}
