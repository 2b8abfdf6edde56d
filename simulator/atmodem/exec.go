package atmodem

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// handler executes one command and returns its information lines.
type handler func(s *session, ctx context.Context, c Command) ([]string, error)

// handlers maps command names to their implementation. Aliases (the V.250
// +GMI family and the 27.007 +CGMI family) share one handler.
var handlers map[string]handler

func init() {
	identity := func(get func(c *Config) string, prefix string) handler {
		return func(s *session, ctx context.Context, c Command) ([]string, error) {
			switch c.Op {
			case OpExec:
				if prefix == "" {
					return []string{get(&s.m.cfg)}, nil
				}
				return []string{prefix + ": " + get(&s.m.cfg)}, nil
			case OpTest:
				return nil, nil
			}
			return nil, CMEOperationNotSupported
		}
	}
	plain := func(get func(c *Config) string) handler { return identity(get, "") }
	handlers = map[string]handler{
		"E":  basicFlag(func(st *settings) *bool { return &st.echo }, false),
		"V":  basicFlag(func(st *settings) *bool { return &st.verbose }, false),
		"Q":  basicFlag(func(st *settings) *bool { return &st.quiet }, false),
		"Z":  cmdReset,
		"&F": cmdReset,
		"I":  cmdATI,
		"&C": accept, "&D": accept, "&K": accept, "&W": accept, "X": accept, "L": accept, "M": accept,
		"+IFC": accept, "+IPR": accept, "+ICF": accept,
		"+CGMI":   plain(func(c *Config) string { return c.Manufacturer }),
		"+GMI":    plain(func(c *Config) string { return c.Manufacturer }),
		"+CGMM":   plain(func(c *Config) string { return c.Model }),
		"+GMM":    plain(func(c *Config) string { return c.Model }),
		"+CGMR":   plain(func(c *Config) string { return c.Revision }),
		"+GMR":    plain(func(c *Config) string { return c.Revision }),
		"+CGSN":   plain(func(c *Config) string { return c.IMEI }),
		"+GSN":    plain(func(c *Config) string { return c.IMEI }),
		"+CIMI":   cmdCIMI,
		"+CCID":   cmdCCID("+CCID"),
		"+ICCID":  cmdCCID("+ICCID"),
		"+GCAP":   identity(func(c *Config) string { return "+CGSM" }, "+GCAP"),
		"+CMEE":   cmdCMEE,
		"+CSCS":   cmdCSCS,
		"+CFUN":   cmdCFUN,
		"+CPIN":   cmdCPIN,
		"+CSQ":    cmdCSQ,
		"+CREG":   cmdReg(func(st *settings) *int { return &st.creg }, "+CREG", 2),
		"+CGREG":  cmdReg(func(st *settings) *int { return &st.cgreg }, "+CGREG", 2),
		"+CEREG":  cmdReg(func(st *settings) *int { return &st.cereg }, "+CEREG", 2),
		"+COPS":   cmdCOPS,
		"+CGATT":  cmdCGATT,
		"+CLIP":   flagSetting("+CLIP", func(st *settings) *int { return &st.clip }, ",1"),
		"+CRC":    flagSetting("+CRC", func(st *settings) *int { return &st.crc }, ""),
		"+CCWA":   flagSetting("+CCWA", func(st *settings) *int { return &st.ccwa }, ""),
		"+CNUM":   cmdCNUM,
		"+CMGF":   cmdCMGF,
		"+CSMS":   cmdCSMS,
		"+CNMI":   cmdCNMI,
		"+CNMA":   accept,
		"+CMMS":   accept,
		"+CSDH":   cmdCSDH,
		"+CSMP":   cmdCSMP,
		"+CSCA":   cmdCSCA,
		"+CPMS":   cmdCPMS,
		"+CMGS":   cmdCMGS,
		"+CMGW":   cmdCMGW,
		"+CMGR":   cmdCMGR,
		"+CMGL":   cmdCMGL,
		"+CMGD":   cmdCMGD,
		"+CSIM":   cmdCSIM,
		"+CRSM":   cmdCRSM,
		"+CUSATD": cmdCUSATD,
		"+CUSATA": cmdCUSATA,
		"+CUSATR": cmdCUSATR,
		"+CUSATW": cmdCUSATW,
		"+CUSATT": cmdCUSATT,
		"+CUSATE": cmdCUSATE,
	}
}

// exec dispatches one command.
func (s *session) exec(ctx context.Context, c Command) ([]string, error) {
	if strings.HasPrefix(c.Name, "S") && len(c.Name) > 1 && isDigit(c.Name[1]) {
		return s.sreg(c)
	}
	h, ok := handlers[c.Name]
	if !ok {
		return nil, errUnknownCommand
	}
	return h(s, ctx, c)
}

// sreg reads or sets an S-parameter (V.250 §6.2).
func (s *session) sreg(c Command) ([]string, error) {
	n, err := strconv.Atoi(c.Name[1:])
	if err != nil || n > 255 {
		return nil, errUnknownCommand
	}
	if c.Op == OpRead {
		return []string{fmt.Sprintf("%03d", s.m.set.sregs[n])}, nil
	}
	v, err := intArg(c.Args, 0, 0, 255)
	if err != nil {
		return nil, err
	}
	if (n == 3 || n == 4 || n == 5) && v == 0 {
		return nil, CMEIncorrectParameters
	}
	s.m.set.sregs[n] = v
	return nil, nil
}

func accept(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpRead {
		return nil, errUnknownCommand
	}
	return nil, nil
}

// basicFlag implements E, V and Q: 0 clears, 1 sets, no number means 0.
func basicFlag(field func(*settings) *bool, _ bool) handler {
	return func(s *session, ctx context.Context, c Command) ([]string, error) {
		switch c.Args {
		case "", "0":
			*field(&s.m.set) = false
		case "1":
			*field(&s.m.set) = true
		default:
			return nil, errUnknownCommand
		}
		return nil, nil
	}
}

// cmdReset implements ATZ and AT&F: settings back to defaults, any message
// body in progress dropped. Stored messages survive, as on a real modem.
func cmdReset(s *session, ctx context.Context, c Command) ([]string, error) {
	s.m.set = defaultSettings()
	s.m.pending = nil
	return nil, nil
}

// cmdATI answers ATI with the manufacturer, model and revision.
func cmdATI(s *session, ctx context.Context, c Command) ([]string, error) {
	cfg := &s.m.cfg
	switch c.Args {
	case "", "0":
		return []string{"Manufacturer: " + cfg.Manufacturer, "Model: " + cfg.Model,
			"Revision: " + cfg.Revision, "IMEI: " + cfg.IMEI}, nil
	case "1", "3":
		return []string{cfg.Manufacturer + " " + cfg.Model}, nil
	}
	return []string{cfg.Revision}, nil
}

// setting implements the usual read/test/set triple for one integer
// parameter.
func intSetting(s *session, c Command, name string, field *int, lo, hi, def int) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("%s: %d", name, *field)}, nil
	case OpTest:
		return []string{fmt.Sprintf("%s: (%d-%d)", name, lo, hi)}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil {
			return nil, CMEIncorrectParameters
		}
		v, err := intArg(a[0], def, lo, hi)
		if err != nil {
			return nil, err
		}
		*field = v
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdCMEE: report mobile termination error, TS 27.007 §9.1.
func cmdCMEE(s *session, ctx context.Context, c Command) ([]string, error) {
	if c.Op == OpExec {
		s.m.set.cmee = 0
		return nil, nil
	}
	return intSetting(s, c, "+CMEE", &s.m.set.cmee, 0, 2, 0)
}

// cmdCSCS: select TE character set, TS 27.007 §5.5.
func cmdCSCS(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CSCS: %q", s.m.set.cscs)}, nil
	case OpTest:
		return []string{`+CSCS: ("IRA","GSM","UCS2","HEX")`}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil {
			return nil, CMEIncorrectParameters
		}
		switch cs := strings.ToUpper(a[0]); cs {
		case "IRA", "GSM", "UCS2", "HEX":
			s.m.set.cscs = cs
			return nil, nil
		}
		return nil, CMEIncorrectParameters
	}
	return nil, CMEOperationNotSupported
}

// cmdCFUN: set phone functionality, TS 27.007 §8.2; always full.
func cmdCFUN(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{"+CFUN: 1"}, nil
	case OpTest:
		return []string{"+CFUN: (0,1,4),(0,1)"}, nil
	case OpSet:
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdCSQ: signal quality, TS 27.007 §8.5.
func cmdCSQ(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpExec:
		return []string{fmt.Sprintf("+CSQ: %d,99", s.m.cfg.RSSI)}, nil
	case OpTest:
		return []string{"+CSQ: (0-31,99),(0-7,99)"}, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdReg implements +CREG (TS 27.007 §7.2), +CGREG (§10.1.20) and +CEREG
// (§10.1.22): always registered, home network.
func cmdReg(field func(*settings) *int, name string, max int) handler {
	return func(s *session, ctx context.Context, c Command) ([]string, error) {
		f := field(&s.m.set)
		switch c.Op {
		case OpRead:
			if *f >= 2 {
				act := 0
				if name == "+CEREG" {
					act = 7
				}
				return []string{fmt.Sprintf(`%s: %d,1,"00A1","0000B2C3",%d`, name, *f, act)}, nil
			}
			return []string{fmt.Sprintf("%s: %d,1", name, *f)}, nil
		case OpTest:
			return []string{fmt.Sprintf("%s: (0-%d)", name, max)}, nil
		case OpSet:
			return intSetting(s, c, name, f, 0, max, 0)
		}
		return nil, CMEOperationNotSupported
	}
}

// cmdCOPS: PLMN selection, TS 27.007 §7.3.
func cmdCOPS(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		oper := s.m.cfg.Operator
		switch s.m.set.copsFormat {
		case 1:
			if len(oper) > 16 {
				oper = oper[:16]
			}
		case 2:
			oper = plmn(s.m.cfg.IMSI)
		}
		return []string{fmt.Sprintf(`+COPS: 0,%d,"%s",7`, s.m.set.copsFormat, oper)}, nil
	case OpTest:
		return []string{fmt.Sprintf(`+COPS: (2,"%s","%s","%s",7),,(0-4),(0-2)`,
			s.m.cfg.Operator, s.m.cfg.Operator, plmn(s.m.cfg.IMSI))}, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil {
			return nil, CMEIncorrectParameters
		}
		mode, err := intArg(a[0], 0, 0, 4)
		if err != nil {
			return nil, err
		}
		if mode == 3 && len(a) > 1 {
			f, err := intArg(a[1], 0, 0, 2)
			if err != nil {
				return nil, err
			}
			s.m.set.copsFormat = f
		}
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}

// cmdCGATT: PS attach or detach, TS 27.007 §10.1.9; always attached.
func cmdCGATT(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{"+CGATT: 1"}, nil
	case OpTest:
		return []string{"+CGATT: (0,1)"}, nil
	case OpSet:
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}

// flagSetting implements a 0/1 presentation setting such as +CLIP
// (TS 27.007 §7.6), +CRC (§6.11) or +CCWA (§7.12); the read answer is
// "<name>: <n><suffix>".
func flagSetting(name string, field func(*settings) *int, suffix string) handler {
	return func(s *session, ctx context.Context, c Command) ([]string, error) {
		if c.Op == OpRead {
			return []string{fmt.Sprintf("%s: %d%s", name, *field(&s.m.set), suffix)}, nil
		}
		return intSetting(s, c, name, field(&s.m.set), 0, 1, 0)
	}
}

// plmn returns MCC+MNC (5 digits) from an IMSI.
func plmn(imsi string) string {
	if len(imsi) >= 5 {
		return imsi[:5]
	}
	return imsi
}

// cmdCNUM: subscriber number, TS 27.007 §7.1.
func cmdCNUM(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpExec:
		if s.m.cfg.MSISDN == "" {
			return nil, nil
		}
		n, toa := numberTOA(s.m.cfg.MSISDN)
		return []string{fmt.Sprintf(`+CNUM: "","%s",%d`, n, toa)}, nil
	case OpTest:
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}

// numberTOA returns the number as shown to the terminal and its type of
// address (145 international, 129 unknown), TS 27.007 §7.1.
func numberTOA(n string) (string, int) {
	if strings.HasPrefix(n, "+") {
		return n, 145
	}
	return n, 129
}

// cmdCSCA: service centre address, TS 27.005 §3.3.1.
func cmdCSCA(s *session, ctx context.Context, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		n, toa := numberTOA(s.m.cfg.SMSC)
		return []string{fmt.Sprintf(`+CSCA: "%s",%d`, n, toa)}, nil
	case OpTest:
		return nil, nil
	case OpSet:
		a, err := SplitArgs(c.Args)
		if err != nil || a[0] == "" {
			return nil, CMSOperationNotAllowed
		}
		n := a[0]
		if len(a) > 1 && a[1] == "145" && !strings.HasPrefix(n, "+") {
			n = "+" + n
		}
		s.m.cfg.SMSC = n
		return nil, nil
	}
	return nil, CMEOperationNotSupported
}
