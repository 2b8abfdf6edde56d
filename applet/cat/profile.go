package cat

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// TerminalProfile is the data of the TERMINAL PROFILE command (ETSI TS 102
// 223 §5.2, 3GPP TS 31.111 §5.2): one bit per facility the terminal
// supports, plus a few counts (soft keys, channels, screen size). Bytes the
// terminal does not send read as zero.
type TerminalProfile []byte

// Facility is one bit of a terminal profile: (byte-1)*8 + (bit-1), with
// bytes and bits numbered from 1 as in the specification tables.
type Facility uint16

// facility returns the Facility for byte n (from 1), bit b (from 1).
func facility(n, b int) Facility { return Facility((n-1)*8 + b - 1) }

// Byte returns the profile byte (from 1) holding f.
func (f Facility) Byte() int { return int(f)/8 + 1 }

// Bit returns the bit (from 1) of f within its byte.
func (f Facility) Bit() int { return int(f)%8 + 1 }

// Facilities named in TS 102 223 §5.2 and TS 31.111 §5.2 (bytes 1-18, 21,
// 22), as constants for the ones simlab's terminal and applet care about.
const (
	FacProfileDownload         = Facility(0)  // byte 1 bit 1
	FacSMSPPDownload           = Facility(1)  // byte 1 bit 2
	FacCBDownload              = Facility(2)  // byte 1 bit 3
	FacMenuSelection           = Facility(3)  // byte 1 bit 4
	FacSMSPPDataDownload9EXX   = Facility(4)  // byte 1 bit 5
	FacTimerExpiration         = Facility(5)  // byte 1 bit 6
	FacCommandResult           = Facility(8)  // byte 2 bit 1
	FacUCS2Entry               = Facility(13) // byte 2 bit 6
	FacUCS2Display             = Facility(14) // byte 2 bit 7
	FacDisplayText             = Facility(16) // byte 3 bit 1
	FacGetInkey                = Facility(17) // byte 3 bit 2
	FacGetInput                = Facility(18) // byte 3 bit 3
	FacMoreTime                = Facility(19) // byte 3 bit 4
	FacPlayTone                = Facility(20) // byte 3 bit 5
	FacPollInterval            = Facility(21) // byte 3 bit 6
	FacPollingOff              = Facility(22) // byte 3 bit 7
	FacRefresh                 = Facility(23) // byte 3 bit 8
	FacSelectItem              = Facility(24) // byte 4 bit 1
	FacSendShortMessage        = Facility(25) // byte 4 bit 2
	FacSetUpMenu               = Facility(29) // byte 4 bit 6
	FacProvideLocalInfo        = Facility(30) // byte 4 bit 7
	FacSetUpEventList          = Facility(32) // byte 5 bit 1
	FacEventLocationStatus     = Facility(36) // byte 5 bit 5
	FacEventUserActivity       = Facility(37) // byte 5 bit 6
	FacEventIdleScreen         = Facility(38) // byte 5 bit 7
	FacTimerManagementStart    = Facility(56) // byte 8 bit 1
	FacTimerManagementGetValue = Facility(57) // byte 8 bit 2
	FacProvideLocalDateTime    = Facility(58) // byte 8 bit 3
	FacSetUpIdleModeText       = Facility(60) // byte 8 bit 5
	FacSustainedDisplayText    = Facility(64) // byte 9 bit 1
	FacProvideLocalLanguage    = Facility(67) // byte 9 bit 4
	FacLaunchBrowser           = Facility(70) // byte 9 bit 7
	FacOpenChannel             = Facility(88) // byte 12 bit 1
)

// facilityNames names every facility bit of bytes 1-18, 21 and 22 (TS 102
// 223 §5.2; TS 31.111 §5.2 where 3GPP defines the bit). Multi-bit fields
// (bytes 11, 13 bits 6-8, 14, 15, 16 bits 6-8, 19, 20) are read with the
// methods of TerminalProfile instead.
var facilityNames = map[Facility]string{
	facility(1, 1): "profile download",
	facility(1, 2): "SMS-PP data download",
	facility(1, 3): "cell broadcast data download",
	facility(1, 4): "menu selection",
	facility(1, 5): "SMS-PP data download: 9EXX response code",
	facility(1, 6): "timer expiration",
	facility(1, 7): "USSD string data object supported in call control",
	facility(1, 8): "call control envelope in automatic redial",

	facility(2, 1): "command result",
	facility(2, 2): "call control by NAA",
	facility(2, 3): "cell identity included in call control by NAA",
	facility(2, 4): "MO short message control by NAA",
	facility(2, 5): "handling of the alpha identifier (§9.1.3)",
	facility(2, 6): "UCS2 entry",
	facility(2, 7): "UCS2 display",
	facility(2, 8): "display of extension text",

	facility(3, 1): "DISPLAY TEXT",
	facility(3, 2): "GET INKEY",
	facility(3, 3): "GET INPUT",
	facility(3, 4): "MORE TIME",
	facility(3, 5): "PLAY TONE",
	facility(3, 6): "POLL INTERVAL",
	facility(3, 7): "POLLING OFF",
	facility(3, 8): "REFRESH",

	facility(4, 1): "SELECT ITEM",
	facility(4, 2): "SEND SHORT MESSAGE",
	facility(4, 3): "SEND SS",
	facility(4, 4): "SEND USSD",
	facility(4, 5): "SET UP CALL",
	facility(4, 6): "SET UP MENU",
	facility(4, 7): "PROVIDE LOCAL INFORMATION (MCC, MNC, LAC, cell ID, IMEI)",
	facility(4, 8): "PROVIDE LOCAL INFORMATION (NMR)",

	facility(5, 1): "SET UP EVENT LIST",
	facility(5, 2): "event: MT call",
	facility(5, 3): "event: call connected",
	facility(5, 4): "event: call disconnected",
	facility(5, 5): "event: location status",
	facility(5, 6): "event: user activity",
	facility(5, 7): "event: idle screen available",
	facility(5, 8): "event: card reader status",

	facility(6, 1): "event: language selection",
	facility(6, 2): "event: browser termination",
	facility(6, 3): "event: data available",
	facility(6, 4): "event: channel status",
	facility(6, 5): "event: access technology change",
	facility(6, 6): "event: display parameters changed",
	facility(6, 7): "event: local connection",
	facility(6, 8): "event: network search mode change",

	facility(7, 1): "POWER ON CARD",
	facility(7, 2): "POWER OFF CARD",
	facility(7, 3): "PERFORM CARD APDU",
	facility(7, 4): "GET READER STATUS (card reader status)",
	facility(7, 5): "GET READER STATUS (card reader identifier)",

	facility(8, 1): "TIMER MANAGEMENT (start, stop)",
	facility(8, 2): "TIMER MANAGEMENT (get current value)",
	facility(8, 3): "PROVIDE LOCAL INFORMATION (date, time and time zone)",
	facility(8, 4): "GET INKEY (binary choice)",
	facility(8, 5): "SET UP IDLE MODE TEXT",
	facility(8, 6): "RUN AT COMMAND",
	facility(8, 7): "SET UP CALL (2nd alpha identifier)",
	facility(8, 8): "call control by NAA (2nd capability configuration parameter)",

	facility(9, 1): "sustained DISPLAY TEXT",
	facility(9, 2): "SEND DTMF",
	facility(9, 3): "PROVIDE LOCAL INFORMATION (BCCH channel list)",
	facility(9, 4): "PROVIDE LOCAL INFORMATION (language)",
	facility(9, 5): "PROVIDE LOCAL INFORMATION (timing advance)",
	facility(9, 6): "LANGUAGE NOTIFICATION",
	facility(9, 7): "LAUNCH BROWSER",
	facility(9, 8): "PROVIDE LOCAL INFORMATION (access technology)",

	facility(10, 1): "soft keys for SELECT ITEM",
	facility(10, 2): "soft keys for SET UP MENU",

	facility(12, 1): "OPEN CHANNEL",
	facility(12, 2): "CLOSE CHANNEL",
	facility(12, 3): "RECEIVE DATA",
	facility(12, 4): "SEND DATA",
	facility(12, 5): "GET CHANNEL STATUS",
	facility(12, 6): "SERVICE SEARCH",
	facility(12, 7): "GET SERVICE INFORMATION",
	facility(12, 8): "DECLARE SERVICE",

	facility(13, 1): "BIP bearer: CSD",
	facility(13, 2): "BIP bearer: GPRS",
	facility(13, 3): "BIP bearer: Bluetooth",
	facility(13, 4): "BIP bearer: IrDA",
	facility(13, 5): "BIP bearer: RS232",

	facility(14, 8): "screen sizing parameters",
	facility(15, 8): "variable size fonts",

	facility(16, 1): "display can be resized",
	facility(16, 2): "text wrapping",
	facility(16, 3): "text scrolling",
	facility(16, 4): "text attributes",

	facility(17, 1): "TCP, UICC in client mode, remote connection",
	facility(17, 2): "UDP, UICC in client mode, remote connection",
	facility(17, 3): "TCP, UICC in server mode",
	facility(17, 4): "TCP, UICC in client mode, local connection",
	facility(17, 5): "UDP, UICC in client mode, local connection",
	facility(17, 6): "direct communication channel",
	facility(17, 7): "E-UTRAN",
	facility(17, 8): "HSDPA",

	facility(18, 1): "DISPLAY TEXT (variable time-out)",
	facility(18, 2): "GET INKEY (help during immediate response or variable time-out)",
	facility(18, 3): "BIP bearer: USB",
	facility(18, 4): "GET INKEY (variable time-out)",
	facility(18, 5): "PROVIDE LOCAL INFORMATION (ESN)",
	facility(18, 6): "call control on GPRS",
	facility(18, 7): "PROVIDE LOCAL INFORMATION (IMEISV)",
	facility(18, 8): "PROVIDE LOCAL INFORMATION (search mode change)",

	facility(21, 1): "LAUNCH BROWSER: WML",
	facility(21, 2): "LAUNCH BROWSER: XHTML",
	facility(21, 3): "LAUNCH BROWSER: HTML",
	facility(21, 4): "LAUNCH BROWSER: CHTML",

	facility(22, 1): "UTRAN PS with extended parameters",
	facility(22, 2): "event: browsing status",
	facility(22, 3): "event: MMS transfer status",
	facility(22, 4): "event: frame information changed",
	facility(22, 5): "event: I-WLAN access status",
	facility(22, 6): "event: network rejection",
	facility(22, 7): "event: HCI connectivity",
	facility(22, 8): "event: access technology change (multiple)",
}

// String returns the specification's name of f, or "byte N bit B".
func (f Facility) String() string {
	if n, ok := facilityNames[f]; ok {
		return n
	}
	return fmt.Sprintf("byte %d bit %d", f.Byte(), f.Bit())
}

// FacilityByName finds a facility by its name as String returns it
// (case-insensitive).
func FacilityByName(name string) (Facility, bool) {
	for f, n := range facilityNames {
		if strings.EqualFold(n, name) {
			return f, true
		}
	}
	return 0, false
}

// Has reports whether the profile announces f.
func (p TerminalProfile) Has(f Facility) bool {
	i := int(f) / 8
	return i < len(p) && p[i]&(1<<(int(f)%8)) != 0
}

// Set returns p with f announced, grown with zero bytes when needed.
func (p TerminalProfile) Set(f Facility) TerminalProfile {
	i := int(f) / 8
	for len(p) <= i {
		p = append(p, 0)
	}
	p[i] |= 1 << (int(f) % 8)
	return p
}

// Clear returns p without f.
func (p TerminalProfile) Clear(f Facility) TerminalProfile {
	if i := int(f) / 8; i < len(p) {
		p[i] &^= 1 << (int(f) % 8)
	}
	return p
}

// Facilities returns every named facility the profile announces, in bit
// order.
func (p TerminalProfile) Facilities() []Facility {
	var out []Facility
	for i := range len(p) * 8 {
		f := Facility(i)
		if _, named := facilityNames[f]; named && p.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

func (p TerminalProfile) byteAt(n int) byte {
	if n-1 < len(p) {
		return p[n-1]
	}
	return 0
}

// SoftKeys returns the maximum number of soft keys (byte 11).
func (p TerminalProfile) SoftKeys() int { return int(p.byteAt(11)) }

// Channels returns the number of BIP channels supported (byte 13 bits 6-8).
func (p TerminalProfile) Channels() int { return int(p.byteAt(13) >> 5) }

// ScreenHeight returns the characters supported down the display (byte 14
// bits 1-5).
func (p TerminalProfile) ScreenHeight() int { return int(p.byteAt(14) & 0x1F) }

// ScreenWidth returns the characters supported across the display (byte 15
// bits 1-7).
func (p TerminalProfile) ScreenWidth() int { return int(p.byteAt(15) & 0x7F) }

// MenuWidthReduction returns the width reduction when in a menu (byte 16
// bits 6-8).
func (p TerminalProfile) MenuWidthReduction() int { return int(p.byteAt(16) >> 5) }

// Describe lists the named facilities and the counts, one per line.
func (p TerminalProfile) Describe() []string {
	var out []string
	for _, f := range p.Facilities() {
		out = append(out, fmt.Sprintf("byte %d bit %d: %s", f.Byte(), f.Bit(), f))
	}
	if len(p) >= 11 {
		out = append(out, fmt.Sprintf("byte 11: %d soft keys", p.SoftKeys()))
	}
	if len(p) >= 13 {
		out = append(out, fmt.Sprintf("byte 13 bits 6-8: %d channels", p.Channels()))
	}
	if len(p) >= 14 {
		out = append(out, fmt.Sprintf("byte 14: screen height %d characters", p.ScreenHeight()))
	}
	if len(p) >= 15 {
		out = append(out, fmt.Sprintf("byte 15: screen width %d characters", p.ScreenWidth()))
	}
	return out
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// HandsetProfile returns a realistic handset profile: the 30 bytes that
// onomondo-uicc's gscriptor/terminal_profile.scriptor sends (testdata/vectors.txt),
// announcing every proactive command the authenticator needs (DISPLAY
// TEXT, GET INPUT, SEND SHORT MESSAGE, SMS-PP data download, UCS2).
func HandsetProfile() TerminalProfile {
	return mustHex("ffffffff7f9d00dfff00001fe2000000c36b000700004000500000000008")
}

// PySimOTAProfile returns pySim's "reasonable default for playing with
// OTA" (pySim/cat.py; testdata/vectors.txt): 33 bytes, SMS-PP data download,
// DISPLAY TEXT, POLL INTERVAL, POLLING OFF, REFRESH, SEND SHORT MESSAGE and
// the BIP commands.
func PySimOTAProfile() TerminalProfile {
	return mustHex("7fe1e10e000000000000001f43000000ff00000000000000000000000000000000")
}
