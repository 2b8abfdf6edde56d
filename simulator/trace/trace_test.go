package trace

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/simulator/vpcd/vpcdtest"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeClock advances one millisecond per reading.
func fakeClock() func() time.Time {
	t := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

// smppPDU builds an SMPP v3.4 PDU (§3.2: command_length, command_id,
// command_status, sequence_number, body).
func smppPDU(id, status, seq uint32, body []byte) []byte {
	p := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint32(p[0:], uint32(16+len(body)))
	binary.BigEndian.PutUint32(p[4:], id)
	binary.BigEndian.PutUint32(p[8:], status)
	binary.BigEndian.PutUint32(p[12:], seq)
	return append(p, body...)
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func smppExchange() [][2]any {
	bind := bytes.Join([][]byte{cstr("user"), cstr("pass"), cstr(""), {0x34, 0, 0}, cstr("")}, nil)
	ud := []byte{0x02, 0x70, 0x00, 0xAA, 0xBB, 0xCC} // UDH IEI 70 + 3 bytes
	submit := bytes.Join([][]byte{cstr(""), {1, 1}, cstr("12345"), {1, 1}, cstr("999000000001"),
		{0x40, 0x7F, 0}, cstr(""), cstr(""), {1, 0, 0xF6, 0, byte(len(ud))}, ud}, nil)
	// A submit_sm carrying 3000 octets in message_payload (TLV 0x0424,
	// SMPP v3.4 §5.3.2.32): it spans three TCP segments.
	payload := bytes.Repeat([]byte{0x42}, 3000)
	bigSubmit := bytes.Join([][]byte{cstr(""), {1, 1}, cstr("12345"), {1, 1}, cstr("999000000002"),
		{0x00, 0x00, 0}, cstr(""), cstr(""), {1, 0, 0x04, 0, 0}, {0x04, 0x24, byte(len(payload) >> 8), byte(len(payload))}, payload}, nil)
	return [][2]any{
		{ToSMSC, smppPDU(0x00000009, 0, 1, bind)},          // bind_transceiver
		{FromSMSC, smppPDU(0x80000009, 0, 1, cstr("sim"))}, // bind_transceiver_resp
		{ToSMSC, smppPDU(0x00000004, 0, 2, submit)},        // submit_sm
		{FromSMSC, smppPDU(0x80000004, 0, 2, cstr("m1"))},  // submit_sm_resp
		{ToSMSC, smppPDU(0x00000015, 0, 3, nil)},           // enquire_link
		{FromSMSC, smppPDU(0x80000015, 0, 3, nil)},         // enquire_link_resp
		{ToSMSC, smppPDU(0x00000004, 0, 4, bigSubmit)},     // submit_sm, segmented
		{FromSMSC, smppPDU(0x80000004, 0, 4, cstr("m2"))},  // submit_sm_resp
	}
}

// apdus: SELECT MF in T=0 style and with Le, GET RESPONSE, TERMINAL
// PROFILE (pySim's default in applet/cat/testdata/vectors.txt, first 4 bytes), STATUS.
var apduCases = []struct{ c, r string }{
	{"00A40004023F00", "6116"},
	{"00C0000016", hex.EncodeToString(vpcdtest.MFFCP) + "9000"},
	{"00A40004023F0000", hex.EncodeToString(vpcdtest.MFFCP) + "9000"},
	{"80100000047FE1E10E", "9000"},
	{"80F2000000", "9000"},
}

func writeTrace(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "trace.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rec, err := New(Options{PCAP: f, Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apduCases {
		if err := rec.APDU(time.Time{}, unhex(t, a.c), unhex(t, a.r)); err != nil {
			t.Fatal(err)
		}
	}
	s := rec.SMPPStream()
	for _, p := range smppExchange() {
		if err := s.PDU(time.Time{}, p[0].(Direction), p[1].([]byte)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(time.Time{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTsharkDecodesTrace is the CI check that Wireshark's dissectors read
// our output: gsm_sim finds the APDU instructions, smpp the command ids,
// and no checksum or malformed-packet expert info appears.
func TestTsharkDecodesTrace(t *testing.T) {
	tshark := needs.Command(t, "tshark", "tshark")
	t.Parallel()
	path := writeTrace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, tshark, "-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|",
		"-e", "gsm_sim.apdu.ins", "-e", "gsm_sim.apdu.sw", "-e", "smpp.command_id", "-e", "_ws.expert.message").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	var ins, sws, cmds, experts []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 4 {
			t.Fatalf("tshark line %q", line)
		}
		for i, dst := range []*[]string{&ins, &sws, &cmds, &experts} {
			if f[i] != "" {
				*dst = append(*dst, f[i])
			}
		}
	}
	if got := strings.Join(ins, ","); got != "0xa4,0xc0,0xa4,0x10,0xf2" {
		t.Errorf("gsm_sim.apdu.ins = %s\n%s", got, out)
	}
	if got := strings.Join(sws, ","); got != "0x6116,0x9000,0x9000,0x9000,0x9000" {
		t.Errorf("gsm_sim.apdu.sw = %s\n%s", got, out)
	}
	if got := strings.Join(cmds, ","); got != "0x00000009,0x80000009,0x00000004,0x80000004,0x00000015,0x80000015,0x00000004,0x80000004" {
		t.Errorf("smpp.command_id = %s\n%s", got, out)
	}
	for _, e := range experts {
		if strings.Contains(strings.ToLower(e), "checksum") || strings.Contains(strings.ToLower(e), "malformed") {
			t.Errorf("tshark expert info: %s", e)
		}
	}
	// The verbose tree names the file and the SMPP fields.
	out, err = exec.CommandContext(ctx, tshark, "-r", path, "-V").Output()
	if err != nil {
		t.Fatalf("tshark -V: %v", err)
	}
	for _, want := range []string{"GSM SIM 11.11", "SELECT", "TERMINAL PROFILE", "Short Message Peer to Peer", "Submit_sm", "999000000001"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tshark -V lacks %q", want)
		}
	}
}

func TestPCAPHeaderAndRecords(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p, err := NewPCAP(&buf, LinktypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	if err := p.WritePacket(ts, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "D4C3B2A1 0200 0400 00000000 00000000 00000400 65000000")
	want = append(want, binary.LittleEndian.AppendUint32(nil, uint32(ts.Unix()))...)
	want = append(want, unhex(t, "70580A00 03000000 03000000 010203")...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("pcap = %X\nwant  %X", buf.Bytes(), want)
	}
}

// TestLargeSMPPPDUIsSegmented: a 4000-byte PDU goes out in three segments
// (1460 + 1460 + 1080) whose sequence numbers follow the bytes, and the next
// PDU starts where it ended; tshark must reassemble it into one PDU.
func TestLargeSMPPPDUIsSegmented(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rec, err := New(Options{PCAP: &buf, Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	big := smppPDU(0x00000004, 0, 7, bytes.Repeat([]byte{'A'}, 4000-16)) // not a valid submit_sm body; framing only
	if err := rec.SMPP(time.Time{}, ToSMSC, big); err != nil {
		t.Fatal(err)
	}
	if err := rec.SMPP(time.Time{}, ToSMSC, smppPDU(0x15, 0, 8, nil)); err != nil {
		t.Fatal(err)
	}
	// Walk the records: 3 handshake, 3 data segments, 1 enquire_link.
	b := buf.Bytes()[24:]
	var seqs []uint32
	var lens []int
	for len(b) >= 16 {
		n := int(binary.LittleEndian.Uint32(b[8:]))
		pkt := b[16 : 16+n]
		tcp := pkt[20:]
		seqs = append(seqs, binary.BigEndian.Uint32(tcp[4:]))
		lens = append(lens, len(tcp)-20)
		b = b[16+n:]
	}
	if len(lens) != 7 || lens[3] != 1460 || lens[4] != 1460 || lens[5] != 1080 || lens[6] != 16 {
		t.Fatalf("segment payload sizes %v", lens)
	}
	for i := 4; i < 7; i++ {
		if seqs[i] != seqs[i-1]+uint32(lens[i-1]) {
			t.Fatalf("segment %d seq %d, want %d", i, seqs[i], seqs[i-1]+uint32(lens[i-1]))
		}
	}
}

// RFC 1071 §3 worked example: the one's complement sum of
// 0001 f203 f4f5 f6f7 is ddf2, so the checksum is 220d.
func TestChecksumRFC1071(t *testing.T) {
	t.Parallel()
	if got := checksum(unhex(t, "0001f203f4f5f6f7")); got != 0x220d {
		t.Fatalf("checksum = %04x, want 220d", got)
	}
	// Split across parts at an odd boundary gives the same sum.
	if got := checksum(unhex(t, "0001f2"), unhex(t, "03f4f5f6f7")); got != 0x220d {
		t.Fatalf("split checksum = %04x, want 220d", got)
	}
}

func TestIPv4UDPVerifies(t *testing.T) {
	t.Parallel()
	src := netip.MustParseAddrPort("127.0.0.1:50000")
	dst := netip.MustParseAddrPort("127.0.0.1:4729")
	p := IPv4UDP(src, dst, 7, []byte("hello"))
	if checksum(p[:20]) != 0 {
		t.Fatal("IPv4 header checksum does not verify")
	}
	if checksum(pseudoHeader(src.Addr(), dst.Addr(), protoUDP, len(p)-20), p[20:]) != 0 {
		t.Fatal("UDP checksum does not verify")
	}
	if binary.BigEndian.Uint16(p[2:]) != uint16(len(p)) || p[9] != protoUDP {
		t.Fatalf("header %X", p[:20])
	}
}

func TestSIMFrame(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, c, r, want string }{
		{"case 1", "80F20000", "9000", "80F20000009000"},
		{"case 2", "00C0000016", "01029000", "00C000001601029000"},
		{"case 3", "00A40004023F00", "6116", "00A40004023F006116"},
		{"case 4 drops Le", "00A40004023F0000", "62009000", "00A40004023F0062009000"},
		{"extended passes through", "00A4000400000200", "9000", "00A40004000002009000"},
	}
	for _, c := range cases {
		if got := SIMFrame(unhex(t, c.c), unhex(t, c.r)); !bytes.Equal(got, unhex(t, c.want)) {
			t.Errorf("%s: %X, want %s", c.name, got, c.want)
		}
	}
}

func TestGSMTAPRoundTrip(t *testing.T) {
	t.Parallel()
	h := GSMTAPHeader{Version: 2, HdrLenWords: 4, Type: GSMTAPTypeSIM, ARFCN: 0x1234, SignalDBm: -70, FrameNumber: 99, SubType: 1}
	b := append(AppendGSMTAP(nil, h), 0xAA)
	// osmocom gsmtap.h layout: version, hdr_len, type, timeslot, arfcn(2),
	// signal_dbm, snr_db, frame_number(4), sub_type, antenna_nr, sub_slot, res.
	if want := unhex(t, "02040400 1234 BA00 00000063 01000000 AA"); !bytes.Equal(b, want) {
		t.Fatalf("AppendGSMTAP = %X, want %X", b, want)
	}
	got, payload, err := ParseGSMTAP(b)
	if err != nil || got != h || !bytes.Equal(payload, []byte{0xAA}) {
		t.Fatalf("ParseGSMTAP = %+v %X %v", got, payload, err)
	}
	for _, bad := range []string{"0204", "03040400000000000000000000000000", "02010400000000000000000000000000", "02ff0400000000000000000000000000"} {
		if _, _, err := ParseGSMTAP(unhex(t, bad)); !errors.Is(err, ErrGSMTAP) {
			t.Errorf("ParseGSMTAP(%s) = %v, want ErrGSMTAP", bad, err)
		}
	}
}

func FuzzParseGSMTAP(f *testing.F) {
	f.Add(unhex(f, "0204040000000000000000000000000000A40004023F006116"))
	f.Add(unhex(f, "02050400000000000000000000000000AABBCCDD"))
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := ParseGSMTAP(b)
		if err != nil {
			return
		}
		if int(h.HdrLenWords)*4+len(payload) != len(b) {
			t.Fatalf("header %d words + payload %d != %d", h.HdrLenWords, len(payload), len(b))
		}
		if h.HdrLenWords == 4 && !bytes.Equal(AppendGSMTAP(nil, h), b[:16]) && b[15] == 0 {
			t.Fatalf("re-encoding %X gave %X", b[:16], AppendGSMTAP(nil, h))
		}
	})
}

// TestLiveGSMTAP sends to a UDP listener on 127.0.0.1 standing in for
// Wireshark.
func TestLiveGSMTAP(t *testing.T) {
	t.Parallel()
	pc := listenUDP(t)
	rec, err := New(Options{Live: pc.LocalAddr().String(), Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	card := Card{Card: &vpcdtest.Card{}, Rec: rec}
	r, err := card.Transmit(context.Background(), unhex(t, "00A40004023F00"))
	if err != nil || !bytes.Equal(r, []byte{0x61, 0x16}) {
		t.Fatalf("Transmit = %X, %v", r, err)
	}
	buf := make([]byte, 1500)
	pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := ParseGSMTAP(buf[:n])
	if err != nil || h.Type != GSMTAPTypeSIM {
		t.Fatalf("datagram %X: %+v %v", buf[:n], h, err)
	}
	if !bytes.Equal(payload, unhex(t, "00A40004023F006116")) {
		t.Fatalf("payload %X", payload)
	}
}

// TestLiveWithoutListener: nobody listens on the port (Wireshark captures
// the loopback instead); sending must keep working.
func TestLiveWithoutListener(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // now nothing listens there
	rec, err := New(Options{Live: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	for i := 0; i < 5; i++ {
		if err := rec.APDU(time.Time{}, []byte{0x80, 0xF2, 0, 0}, []byte{0x90, 0}); err != nil {
			t.Fatalf("APDU %d: %v", i, err)
		}
	}
}

func TestNilRecorderRecordsNothing(t *testing.T) {
	t.Parallel()
	var r *Recorder
	if err := r.APDU(time.Time{}, []byte{0, 0xA4, 0, 0}, []byte{0x90, 0}); err != nil {
		t.Fatal(err)
	}
	if err := r.SMPP(time.Time{}, ToSMSC, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{}); err == nil {
		t.Fatal("New with no sink must fail")
	}
}
