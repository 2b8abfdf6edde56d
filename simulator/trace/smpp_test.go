package trace

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// bindPDU is a bind (SMPP 3.4 §4.1.1) of system_id "user" with password pw.
func bindPDU(id uint32, pw string) []byte {
	return smppPDU(id, 0, 1, bytes.Join([][]byte{cstr("user"), cstr(pw), cstr("SUT"), {0x34, 1, 1}, cstr("")}, nil))
}

// TestMaskSMPP: the password of bind_transmitter, _receiver, _transceiver
// and outbind becomes as many '*'; everything else, and the caller's
// buffer, is left alone.
func TestMaskSMPP(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   []byte
		want []byte
	}{
		{"bind_transceiver", bindPDU(0x09, "secret"), bindPDU(0x09, "******")},
		{"bind_transmitter", bindPDU(0x02, "pw"), bindPDU(0x02, "**")},
		{"bind_receiver", bindPDU(0x01, "12345678"), bindPDU(0x01, "********")},
		{"outbind §4.1.7", smppPDU(0x0B, 0, 1, append(cstr("smsc"), cstr("pass")...)), smppPDU(0x0B, 0, 1, append(cstr("smsc"), cstr("****")...))},
		{"no password", bindPDU(0x09, ""), bindPDU(0x09, "")},
		{"unterminated password", smppPDU(0x09, 0, 1, append(cstr("user"), "sec"...)), smppPDU(0x09, 0, 1, append(cstr("user"), "***"...))},
		{"unterminated system_id", smppPDU(0x09, 0, 1, []byte("user")), smppPDU(0x09, 0, 1, []byte("user"))},
		{"bind_transceiver_resp", smppPDU(0x80000009, 0, 1, cstr("secret")), smppPDU(0x80000009, 0, 1, cstr("secret"))},
		{"submit_sm", smppPDU(0x04, 0, 2, cstr("secret")), smppPDU(0x04, 0, 2, cstr("secret"))},
		{"short", []byte{0, 0, 0, 9}, []byte{0, 0, 0, 9}},
	} {
		in := bytes.Clone(c.in)
		if got := MaskSMPP(in); !bytes.Equal(got, c.want) {
			t.Errorf("%s: % X, want % X", c.name, got, c.want)
		}
		if !bytes.Equal(in, c.in) {
			t.Errorf("%s: the caller's PDU was written", c.name)
		}
	}
}

func FuzzMaskSMPP(f *testing.F) {
	f.Add(bindPDU(0x09, "secret"))
	f.Add(smppPDU(0x0B, 0, 1, append(cstr("smsc"), cstr("pass")...)))
	f.Add(smppPDU(0x04, 0, 2, cstr("x")))
	f.Add([]byte{0, 0, 0, 16, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		in := bytes.Clone(p)
		got := MaskSMPP(p)
		if !bytes.Equal(p, in) || len(got) != len(p) {
			t.Fatalf("input written or length changed: % X → % X", in, got)
		}
		for i := range got {
			if got[i] != p[i] && (got[i] != '*' || i < pdu.HeaderLen || p[i] == 0) {
				t.Fatalf("octet %d changed from %02X to %02X", i, p[i], got[i])
			}
		}
		if len(p) >= pdu.HeaderLen {
			switch binary.BigEndian.Uint32(p[4:]) {
			case 0x01, 0x02, 0x09, 0x0B:
				body := p[pdu.HeaderLen:]
				if sys := bytes.IndexByte(body, 0); sys >= 0 {
					pw := body[sys+1:]
					if n := bytes.IndexByte(pw, 0); n >= 0 {
						pw = pw[:n]
					}
					if masked := got[pdu.HeaderLen+sys+1:][:len(pw)]; !bytes.Equal(masked, bytes.Repeat([]byte{'*'}, len(pw))) {
						t.Fatalf("password %q left as %q", pw, masked)
					}
				}
			default:
				if !bytes.Equal(got, p) {
					t.Fatal("a PDU that is no bind was changed")
				}
			}
		}
	})
}

// tsharkFields runs tshark on path and returns the rows of the fields.
func tsharkFields(t *testing.T, path string, fields ...string) [][]string {
	t.Helper()
	tshark := needs.Command(t, "tshark", "tshark")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"-r", path, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(ctx, tshark, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rows = append(rows, strings.Split(line, "|"))
	}
	return rows
}

// TestTraceConnTshark: a connection traced through pdu.Tracer shows the
// ESME's own address and port and the SMSC's address on port 2775 (the
// SMSC listened elsewhere), and tshark decodes the bind with its password
// masked, the submit_sm and the deliver_sm.
func TestTraceConnTshark(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "smpp.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := New(Options{PCAP: f, Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	var tr pdu.Tracer = rec
	c := tr.TraceConn(netip.MustParseAddrPort("192.0.2.10:51000"), netip.MustParseAddrPort("192.0.2.1:12775"))
	for _, p := range smppExchange() {
		c.PDU(p[0].(Direction) == ToSMSC, p[1].([]byte))
	}
	deliver := bytes.Join([][]byte{cstr(""), {1, 1}, cstr("999000000001"), {1, 1}, cstr("12345"),
		{0x00, 0x00, 0}, cstr(""), cstr(""), {0, 0, 0, 0, 2}, []byte("ok")}, nil)
	c.PDU(false, smppPDU(0x00000005, 0, 0x40000001, deliver))
	c.PDU(true, smppPDU(0x80000005, 0, 0x40000001, cstr("")))
	c.Close()
	f.Close()
	var cmds, pws []string
	for _, r := range tsharkFields(t, path, "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport", "smpp.command_id", "smpp.password", "_ws.expert.message") {
		if r[0] == "192.0.2.10" && (r[1] != "51000" || r[2] != "192.0.2.1" || r[3] != "2775") ||
			r[0] == "192.0.2.1" && (r[1] != "2775" || r[2] != "192.0.2.10" || r[3] != "51000") || r[0] != "192.0.2.10" && r[0] != "192.0.2.1" {
			t.Errorf("packet %v: not between 192.0.2.10:51000 and 192.0.2.1:2775", r)
		}
		if r[4] != "" {
			cmds = append(cmds, r[4])
		}
		if r[5] != "" {
			pws = append(pws, r[5])
		}
		if e := strings.ToLower(r[6]); strings.Contains(e, "checksum") || strings.Contains(e, "malformed") {
			t.Errorf("tshark expert info: %s", r[6])
		}
	}
	if got := strings.Join(cmds, ","); got != "0x00000009,0x80000009,0x00000004,0x80000004,0x00000015,0x80000015,0x00000004,0x80000004,0x00000005,0x80000005" {
		t.Errorf("smpp.command_id = %s", got)
	}
	if len(pws) != 1 || pws[0] != "****" {
		t.Errorf("smpp.password = %q, want the bind's, masked", pws)
	}
}

// TestLiveSMPP: live, each segment of a traced connection is a VXLAN
// frame (RFC 7348) to LiveSMPP; written into a pcap as the UDP datagrams
// Wireshark would capture on the loopback, tshark decodes them as SMPP.
func TestLiveSMPP(t *testing.T) {
	t.Parallel()
	gsmtap, vx := listenUDP(t), listenUDP(t)
	rec, err := New(Options{Live: gsmtap.LocalAddr().String(), LiveSMPP: vx.LocalAddr().String(), Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	c := rec.TraceConn(netip.MustParseAddrPort("127.0.0.1:51001"), netip.MustParseAddrPort("127.0.0.1:2775"))
	c.PDU(true, bindPDU(0x09, "secret"))
	c.PDU(false, smppPDU(0x80000009, 0, 1, cstr("simlab")))
	// SYN, SYN-ACK, ACK, bind, bind_resp.
	path := filepath.Join(t.TempDir(), "live.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPCAP(f, LinktypeRaw)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	vx.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := range 5 {
		n, _, err := vx.ReadFrom(buf)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if n < 8+14+40 || buf[0] != 0x08 || buf[20] != 0x08 || buf[21] != 0x00 {
			t.Fatalf("frame %d is no VXLAN/Ethernet/IPv4: % X", i, buf[:min(n, 40)])
		}
		if bytes.Contains(buf[:n], []byte("secret")) {
			t.Fatalf("frame %d holds the password", i)
		}
		udp := IPv4UDP(netip.MustParseAddrPort("127.0.0.1:40001"), netip.MustParseAddrPort("127.0.0.1:4789"), uint16(i), buf[:n])
		if err := p.WritePacket(time.Now(), udp); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	var cmds []string
	for _, r := range tsharkFields(t, path, "vxlan.vni", "smpp.command_id", "smpp.password") {
		if r[0] != "1" {
			t.Errorf("packet %v is not VXLAN VNI 1", r)
		}
		if r[1] != "" {
			cmds = append(cmds, r[1]+" "+r[2])
		}
	}
	if got := strings.Join(cmds, ","); got != "0x00000009 ******,0x80000009 " {
		t.Errorf("tshark over VXLAN: %s", got)
	}
}

// TestCreate: a Recorder made by Create writes a pcap file that holds its
// records once flushed, and Close closes it; with neither a path nor a
// live address it is nil and records nothing.
func TestCreate(t *testing.T) {
	t.Parallel()
	if r, err := Create("", "", nil); r != nil || err != nil {
		t.Fatalf("Create with nothing = %v, %v", r, err)
	}
	path := filepath.Join(t.TempDir(), "c.pcap")
	r, err := Create(path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := r.TraceConn(netip.AddrPort{}, netip.AddrPort{})
	c.PDU(true, smppPDU(0x15, 0, 1, nil))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) != 24+4*(16+40)+16 {
		t.Fatalf("after Flush: %d bytes, %v", len(b), err)
	}
	c.Close()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if b, _ = os.ReadFile(path); len(b) != 24+7*(16+40)+16 {
		t.Fatalf("after Close: %d bytes", len(b))
	}
	if _, err := Create(filepath.Join(t.TempDir(), "no", "such", "dir.pcap"), "", nil); err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
}

// listenUDP is a UDP socket on a free loopback port standing in for
// Wireshark, closed when the test ends.
func listenUDP(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}
