package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/ota"
)

func init() { registerDecode(newDecodeOTACmd) }

// otaSPIJSON is the SPI with every field named.
type otaSPIJSON struct {
	Hex          string `json:"hex"`
	Integrity    string `json:"integrity"`
	Ciphered     bool   `json:"ciphered"`
	Counter      string `json:"counter"`
	PoR          string `json:"por"`
	PoRIntegrity string `json:"por_integrity"`
	PoRCiphered  bool   `json:"por_ciphered"`
	PoRVia       string `json:"por_via"`
}

type otaKeyIDJSON struct {
	Hex       string `json:"hex"`
	Index     int    `json:"index"`
	Algorithm string `json:"algorithm"`
}

type otaClearJSON struct {
	Counter  string `json:"counter"`
	PCNTR    int    `json:"pcntr"`
	Status   *int   `json:"status,omitempty"`
	Checksum string `json:"checksum,omitempty"`
	Data     string `json:"data"`
}

// otaDecoded is the output of `simlab decode ota`.
type otaDecoded struct {
	Type     string        `json:"type"` // "command" or "response"
	UDH      string        `json:"udh,omitempty"`
	CPL      *int          `json:"cpl,omitempty"`
	CHL      *int          `json:"chl,omitempty"`
	RPL      *int          `json:"rpl,omitempty"`
	RHL      *int          `json:"rhl,omitempty"`
	SPI      *otaSPIJSON   `json:"spi,omitempty"`
	KIc      *otaKeyIDJSON `json:"kic,omitempty"`
	KID      *otaKeyIDJSON `json:"kid,omitempty"`
	TAR      string        `json:"tar"`
	Ciphered string        `json:"ciphered,omitempty"` // the ciphered part, hex
	Secured  string        `json:"secured,omitempty"`  // a response's secured part when its SPI is not known
	Clear    *otaClearJSON `json:"clear,omitempty"`
	Opened   any           `json:"opened,omitempty"`
}

type otaDecodeFlags struct {
	hdr         otaHeaderFlags
	keys        otaKeyFlags
	cardCounter string
	msl         string
	asJSON      bool
}

func newDecodeOTACmd(a *app) *cobra.Command {
	var f otaDecodeFlags
	c := &cobra.Command{
		Use:   "ota [--json] [--kic-key HEX --kid-key HEX] [--spi HEX --kic HEX --kid HEX] HEX",
		Short: "Decode an OTA command packet or response packet (TS 102 225)",
		Long: `Decode shows the header of a secured packet: a command packet (hex from CPL,
or with its UDH 02 70 00 in front) or a response packet (starting with its
UDH 02 71 00). The SPI is decoded with names, KIc and KID with key index and
algorithm, then the TAR and the secured part: in clear when not ciphered,
as hex when ciphered.

With keys (--kic-key/--kid-key or --hsm …) the packet is also opened: a
command packet as the card would (counter checked against --card-counter,
MSL --msl), a response packet as the server would. A response packet does
not carry its SPI: give the command's --spi, --kic and --kid to read or open
its secured part.`,
		Example: `  simlab decode ota 027000002015061935…
  simlab decode ota --json --spi 0609 --kic 35 --kid 35 027100001612b0001100000000000000b5bcd6353a421fae016132`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runDecodeOTA(cmd.Context(), a, &f, args[0]) },
	}
	fl := c.Flags()
	f.hdr.add(fl, false, false)
	f.keys.add(fl)
	fl.StringVar(&f.cardCounter, "card-counter", "0000000000", "with keys, command packets: the card's stored counter")
	fl.StringVar(&f.msl, "msl", "00", "with keys, command packets: the TAR's minimum security level")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	return c
}

func otaSPI(s ota.SPI) *otaSPIJSON {
	a, b := s.Bytes()
	via := "sms-deliver-report"
	if s.PoRSubmit {
		via = "sms-submit"
	}
	return &otaSPIJSON{
		Hex: fmt.Sprintf("%02x%02x", a, b), Integrity: s.Integrity.String(), Ciphered: s.Ciphered, Counter: s.Counter.String(),
		PoR: s.PoR.String(), PoRIntegrity: s.PoRIntegrity.String(), PoRCiphered: s.PoRCiphered, PoRVia: via,
	}
}

// otaKeyIDs describes the header's KIc and its KID, read for the integrity
// integ (the SPI's for a command packet, the PoR's for a response).
func otaKeyIDs(h ota.CommandHeader, integ ota.Integrity) (kic, kid *otaKeyIDJSON) {
	kic = &otaKeyIDJSON{Hex: fmt.Sprintf("%02x", byte(h.KIc)), Index: h.KIc.Index(), Algorithm: h.KIc.Algorithm().String()}
	kid = &otaKeyIDJSON{Hex: fmt.Sprintf("%02x", byte(h.KID)), Index: h.KID.Index(), Algorithm: h.KID.Algorithm(integ).String()}
	return kic, kid
}

func otaClear(c ota.Clear, response bool) *otaClearJSON {
	out := &otaClearJSON{Counter: c.Counter.String(), PCNTR: int(c.PCNTR), Checksum: hex.EncodeToString(c.Checksum), Data: hex.EncodeToString(c.Data)}
	if response {
		st := int(c.Status)
		out.Status = &st
	}
	return out
}

func (f *otaDecodeFlags) haveKeys() bool {
	return f.keys.kicKey != "" || f.keys.kidKey != "" || f.keys.hsmURI != ""
}

func runDecodeOTA(ctx context.Context, a *app, f *otaDecodeFlags, arg string) error {
	in, err := otaHex("packet", arg, -1)
	if err != nil {
		return err
	}
	var out *otaDecoded
	pkt := otaStripCommandUDH(in)
	if raw, cerr := ota.ParseCommand(pkt); cerr == nil {
		out, err = f.decodeCommand(ctx, in, pkt, &raw)
	} else if u, _, uerr := ota.ParseUDH(in); uerr == nil && u.ResponsePacket {
		out, err = f.decodeResponse(ctx, in)
	} else {
		return cerr
	}
	if err != nil {
		return err
	}
	if f.asJSON {
		return writeJSON(a.stdout, out)
	}
	otaPrintDecoded(a.stdout, out)
	return nil
}

func (f *otaDecodeFlags) decodeCommand(ctx context.Context, in, pkt []byte, raw *ota.RawCommand) (*otaDecoded, error) {
	h := raw.Header
	cpl, chl := raw.CPL, raw.CHL
	out := &otaDecoded{Type: "command", CPL: &cpl, CHL: &chl, SPI: otaSPI(h.SPI), TAR: h.TAR.String()}
	out.KIc, out.KID = otaKeyIDs(h, h.SPI.Integrity)
	if len(in) > len(pkt) {
		out.UDH = hex.EncodeToString(in[:len(in)-len(pkt)])
	}
	if h.SPI.Ciphered {
		out.Ciphered = hex.EncodeToString(raw.Secured)
	} else {
		c, err := raw.Clear()
		if err != nil {
			return nil, err
		}
		out.Clear = otaClear(c, false)
	}
	if f.haveKeys() {
		opened, _, err := otaOpenCommand(ctx, &f.keys, f.cardCounter, f.msl, pkt)
		if err != nil {
			return nil, err
		}
		out.Opened = opened
	}
	return out, nil
}

func (f *otaDecodeFlags) decodeResponse(ctx context.Context, in []byte) (*otaDecoded, error) {
	raw, err := ota.ParseResponse(in)
	if err != nil {
		return nil, err
	}
	rpl, rhl := raw.RPL, raw.RHL
	out := &otaDecoded{Type: "response", UDH: hex.EncodeToString(raw.UDH), RPL: &rpl, RHL: &rhl, TAR: raw.TAR.String()}
	if f.hdr.spi == "" {
		out.Secured = hex.EncodeToString(raw.Secured)
		return out, nil
	}
	h, _, err := f.hdr.header(false)
	if err != nil {
		return nil, err
	}
	out.SPI = otaSPI(h.SPI)
	out.KIc, out.KID = otaKeyIDs(h, h.SPI.PoRIntegrity)
	if h.SPI.PoRCiphered {
		out.Ciphered = hex.EncodeToString(raw.Secured)
	} else {
		c, err := raw.Clear()
		if err != nil {
			return nil, err
		}
		out.Clear = otaClear(c, true)
	}
	if f.haveKeys() {
		opened, _, err := otaOpenPoR(ctx, &f.keys, h, in)
		if err != nil {
			return nil, err
		}
		out.Opened = opened
	}
	return out, nil
}

func otaPrintDecoded(w io.Writer, d *otaDecoded) {
	p := func(indent int, name string, format string, args ...any) {
		fmt.Fprintf(w, "%*s%-16s %s\n", indent, "", name, fmt.Sprintf(format, args...))
	}
	if d.Type == "command" {
		fmt.Fprintln(w, "command packet (TS 102 225 §5.1)")
	} else {
		fmt.Fprintln(w, "response packet (TS 102 225 §5.2)")
	}
	if d.UDH != "" {
		p(2, "UDH", "%s", d.UDH)
	}
	if d.CPL != nil {
		p(2, "CPL", "%d", *d.CPL)
		p(2, "CHL", "%d", *d.CHL)
	}
	if d.RPL != nil {
		p(2, "RPL", "%d", *d.RPL)
		p(2, "RHL", "%d", *d.RHL)
	}
	if s := d.SPI; s != nil {
		p(2, "SPI", "%s", s.Hex)
		p(4, "integrity", "%s", s.Integrity)
		p(4, "ciphered", "%t", s.Ciphered)
		p(4, "counter", "%s", s.Counter)
		p(4, "PoR", "%s", s.PoR)
		p(4, "PoR integrity", "%s", s.PoRIntegrity)
		p(4, "PoR ciphered", "%t", s.PoRCiphered)
		p(4, "PoR via", "%s", s.PoRVia)
	}
	if d.KIc != nil {
		p(2, "KIc", "%s (key index %d, %s)", d.KIc.Hex, d.KIc.Index, d.KIc.Algorithm)
		p(2, "KID", "%s (key index %d, %s)", d.KID.Hex, d.KID.Index, d.KID.Algorithm)
	}
	p(2, "TAR", "%s", d.TAR)
	if d.Ciphered != "" {
		p(2, "ciphered", "%s", d.Ciphered)
	}
	if d.Secured != "" {
		p(2, "secured", "%s (give --spi/--kic/--kid to read it)", d.Secured)
	}
	if c := d.Clear; c != nil {
		p(2, "CNTR", "%s", c.Counter)
		p(2, "PCNTR", "%d", c.PCNTR)
		if c.Status != nil {
			p(2, "status", "%02x (%s)", *c.Status, ota.Status(*c.Status))
		}
		if c.Checksum != "" {
			p(2, "RC/CC", "%s", c.Checksum)
		}
		p(2, "data", "%s", c.Data)
	}
	var b strings.Builder
	switch o := d.Opened.(type) {
	case *otaOpenResult:
		fmt.Fprintln(w, "opened (card side)")
		otaPrintOpen(&b, o)
	case *otaPoRResult:
		fmt.Fprintln(w, "opened (server side)")
		otaPrintPoR(&b, o)
	}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if l != "" {
			fmt.Fprintln(w, "  "+l)
		}
	}
}
