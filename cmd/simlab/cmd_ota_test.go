package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/smsc/tpdu"
)

// Keys and packets of applet/ota/testdata/vectors.txt (pySim tests/unittests/test_ota.py).
const (
	otaTestKIc = "300102030405060708090a0b0c0d0e0f"
	otaTestKID = "301102030405060708090a0b0c0d0e0f"
	otaTestCmd = "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f"
)

var otaHexKeys = []string{"--kic-key", otaTestKIc, "--kid-key", otaTestKID}

func otaArgs(base []string, extra ...string) []string {
	return append(append(append([]string(nil), base...), otaHexKeys...), extra...)
}

func TestOTASealVectors(t *testing.T) {
	t.Parallel()
	// applet/ota/testdata/vectors.txt: pySim and onomondo-uicc (AES, ISO padding).
	cases := []struct {
		args []string
		want string
	}{
		{otaArgs([]string{"ota", "seal", "--spi", "0619", "--kic", "35", "--kid", "35", "--tar", "b00011", "--counter", "0000000000", "--data", "00a40004023f00"}), otaTestCmd},
		{[]string{"ota", "seal", "--spi", "1639", "--kic", "32", "--kid", "32", "--tar", "b00011", "--counter", "0000000001", "--pad", "iso",
			"--kic-key", "00112233445566778899aabbccddeeff", "--kid-key", "0123456789abcdef0123456701234567", "--data", "00a4000c023f0000a4000c022fe200b000000a"},
			"00381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74"},
		// pySim's signed-only packet, with the CPL it leaves out.
		{[]string{"ota", "seal", "--spi", "0219", "--kic", "35", "--kid", "35", "--tar", "b00000", "--kic-key", "C21DD66ACAC13CB3BC8B331B24AFB57B", "--kid-key", "12110C78E678C25408233076AA033615", "--data", "00a40000023f00"},
			"001d1502193535b00000000000000000072ea17bdb72060e00a40000023f00"},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, c.args...)
		if code != exitOK || out != c.want+"\n" {
			t.Errorf("%v: exit %d, out %q, stderr %q, want %s", c.args, code, out, errOut, c.want)
		}
	}
}

func TestOTASealSMS(t *testing.T) {
	t.Parallel()
	base := []string{"ota", "seal", "--spi", "0619", "--kic", "35", "--kid", "35", "--tar", "b00011", "--counter", "0000000000", "--scts", "2022-07-25T00:00:00Z"}
	// applet/ota/testdata/vectors.txt: the SMS-DELIVER of the 3DES packet with the
	// spec-correct TP-UDL (25), OA 12345678.
	code, out, errOut := runCLI(t, otaArgs(base, "--data", "00a40004023f00", "--sms")...)
	want := "400881214365877ff6227052000000002502700000201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f\n"
	if code != exitOK || out != want {
		t.Fatalf("exit %d, out %q, stderr %q, want %q", code, out, errOut, want)
	}
	// A long packet: concatenated, 8-bit reference, IEI 70 in the first
	// segment only; the card's reassembler gets the packet back.
	data := strings.Repeat("00a4000c023f00", 40)
	code, out, errOut = runCLI(t, otaArgs(base, "--data", data, "--sms", "--ref", "7", "--oa", "+99912345")...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, pktOut, _ := runCLI(t, otaArgs(base, "--data", data)...)
	lines := strings.Fields(out)
	if len(lines) != 3 {
		t.Fatalf("%d TPDUs, want 3:\n%s", len(lines), out)
	}
	r, _ := ota.NewReassembler(ota.ReassemblyLimits{MaxParts: 8, MaxBytes: 2000, MaxAge: time.Minute, MaxPending: 4})
	var got []byte
	for i, l := range lines {
		b, _ := hex.DecodeString(l)
		m, err := tpdu.Parse(b, tpdu.MT)
		if err != nil {
			t.Fatalf("TPDU %d: %v", i, err)
		}
		d := m.(*tpdu.Deliver)
		if d.PID != 0x7F || d.DCS != 0xF6 || d.OA.Number != "99912345" {
			t.Errorf("TPDU %d: PID %02x DCS %02x OA %v", i, d.PID, d.DCS, d.OA)
		}
		_, hasCPI := d.UD.IE(ota.IEICommandPacket)
		if hasCPI != (i == 0) {
			t.Errorf("TPDU %d: IEI 70 present = %t", i, hasCPI)
		}
		ud, err := tpdu.AppendHeader(nil, d.UD.Header)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := r.Add(time.Time{}, "oa", append(ud, d.UD.Data...)); err != nil {
			t.Fatal(err)
		} else if p != nil {
			got = p
		}
	}
	if hex.EncodeToString(got)+"\n" != pktOut {
		t.Errorf("reassembled %x, want %s", got, pktOut)
	}
}

func TestOTAOpenJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, otaArgs([]string{"ota", "open", "--json"}, otaTestCmd)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"tar": "b00011", "counter": "0000000000", "pcntr": 3.0, "cc_valid": true, "data": "00a40004023f00", "status": 0.0}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
	// With the UDH in front, the same result.
	if code, out2, _ := runCLI(t, otaArgs([]string{"ota", "open", "--json"}, "027000"+otaTestCmd)...); code != exitOK || out2 != out {
		t.Errorf("with UDH: exit %d\n%s", code, out2)
	}
	// One bit flipped in the ciphered part: the CC fails, PoR status 01, exit 1.
	bad := otaTestCmd[:len(otaTestCmd)-2] + "2e"
	code, out, _ = runCLI(t, otaArgs([]string{"ota", "open", "--json"}, bad)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFailure || r["cc_valid"] != false || r["status"] != 1.0 {
		t.Errorf("bad CC: exit %d, %v", code, out)
	}
	// Counter must be higher (ON vector, counter 1) against a card at 1: status 02.
	on := "00381516393232b00011d5cbcbd7ad00edcae5fb251618e04ed8502924dbad65b15be802a9d9e28267110d433c06103268db6a2a9d618fe8ab74"
	onKeys := []string{"--kic-key", "00112233445566778899aabbccddeeff", "--kid-key", "0123456789abcdef0123456701234567"}
	code, out, _ = runCLI(t, append(append([]string{"ota", "open", "--json", "--card-counter", "0000000001"}, onKeys...), on)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFailure || r["status"] != 2.0 || r["counter"] != "0000000001" || r["cc_valid"] != true {
		t.Errorf("replay: exit %d, %v", code, out)
	}
	code, out, _ = runCLI(t, append(append([]string{"ota", "open", "--json", "--msl", "16"}, onKeys...), on)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK || r["store_counter"] != true {
		t.Errorf("MSL 16: exit %d, %v", code, out)
	}
	code, out, _ = runCLI(t, otaArgs([]string{"ota", "open", "--json", "--msl", "1e"}, otaTestCmd)...)
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFailure || r["status"] != 10.0 {
		t.Errorf("insufficient security: exit %d, %v", code, out)
	}
}

func TestOTAPoR(t *testing.T) {
	t.Parallel()
	// applet/ota/testdata/vectors.txt (PY).
	cases := []struct {
		spi, por, data string
		status         float64
	}{
		{"0609", "027100001612b0001100000000000000b5bcd6353a421fae016132", "016132", 0},
		{"0619", "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b", "016132", 0},
		{"0601", "027100000e0ab0001100000000000000016132", "016132", 0},
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, otaArgs([]string{"ota", "open-por", "--spi", c.spi, "--kic", "35", "--kid", "35", "--json"}, c.por)...)
		var r map[string]any
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitOK {
			t.Fatalf("%s: exit %d, %s %s", c.por, code, out, errOut)
		}
		if r["tar"] != "b00011" || r["counter"] != "0000000000" || r["status"] != c.status || r["data"] != c.data {
			t.Errorf("%s: %v", c.por, r)
		}
		if (c.spi != "0601") != (r["cc_valid"] == true) {
			t.Errorf("%s: cc_valid %v", c.por, r["cc_valid"])
		}
		code, out, _ = runCLI(t, otaArgs([]string{"ota", "seal-por", "--spi", c.spi, "--kic", "35", "--kid", "35", "--tar", "b00011", "--data", c.data})...)
		if code != exitOK || out != c.por+"\n" {
			t.Errorf("seal-por: exit %d, %q, want %s", code, out, c.por)
		}
	}
	// The negative vector (PY test_resp_3des_signed_err, legacy keys).
	code, out, _ := runCLI(t, "ota", "open-por", "--spi", "0609", "--kic", "35", "--kid", "35", "--kic-key", "C21DD66ACAC13CB3BC8B331B24AFB57B", "--kid-key", "12110C78E678C25408233076AA033615", "--json",
		"027100001612b000110000000000000055f47118381175fb02612f")
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFailure || r["cc_valid"] != false {
		t.Errorf("bad PoR CC: exit %d, %s", code, out)
	}
}

// The same commands with the keys in a key store file (--hsm) print the same.
func TestOTAHSMKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("correct horse"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "keys")
	st, err := soft.Create(path, []byte("correct horse"), soft.FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kic, _ := hex.DecodeString(otaTestKIc)
	kid, _ := hex.DecodeString(otaTestKID)
	if err := st.Import(ctx, "card/kic3", hsm.TDES2, kic); err != nil {
		t.Fatal(err)
	}
	if err := st.Import(ctx, "card/kid3", hsm.TDES2, kid); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ref := []string{"--hsm", "soft:" + path + "?passphrase-source=file:" + pass, "--kic-ref", "card/kic3", "--kid-ref", "card/kid3"}
	for _, args := range [][]string{
		{"ota", "seal", "--spi", "0619", "--kic", "35", "--kid", "35", "--tar", "b00011", "--data", "00a40004023f00"},
		{"ota", "open", "--json", otaTestCmd},
		{"ota", "open-por", "--spi", "0619", "--kic", "35", "--kid", "35", "--json", "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b"},
		{"decode", "ota", "--json", otaTestCmd},
	} {
		n := len(args)
		if args[n-1] == otaTestCmd || strings.HasPrefix(args[n-1], "0271") {
			n--
		}
		withHex := append(append(append([]string(nil), args[:n]...), otaHexKeys...), args[n:]...)
		withRef := append(append(append([]string(nil), args[:n]...), ref...), args[n:]...)
		c1, o1, e1 := runCLI(t, withHex...)
		c2, o2, e2 := runCLI(t, withRef...)
		if c1 != exitOK || c2 != exitOK || o1 != o2 {
			t.Errorf("%v: hex keys exit %d %q %s\nkey store exit %d %q %s", args, c1, o1, e1, c2, o2, e2)
		}
		if strings.Contains(o2+e2, otaTestKIc) || strings.Contains(o2+e2, "correct horse") {
			t.Errorf("%v: secret in output", args)
		}
	}
}

func TestOTAUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"ota", "seal", "--kic", "35", "--kid", "35", "--tar", "b00011", "--data", "00"},
		{"ota", "seal", "--spi", "06", "--kic", "35", "--kid", "35", "--tar", "b00011"},
		{"ota", "seal", "--spi", "0619", "--kic", "35", "--kid", "35", "--tar", "b00011", "--kic-key", "zz"},
		{"ota", "seal", "--spi", "0619", "--kic", "35", "--kid", "35", "--tar", "b00011", "--kic-key", "0011"},
		{"ota", "seal", "--spi", "0619", "--kic", "35", "--kid", "35", "--tar", "b00011", "--kic-key", otaTestKIc, "--kid-key", otaTestKID, "--hsm", "mem:"},
		{"ota", "open"},
		{"ota", "open-por", "--kic", "35", "--kid", "35", "0271"},
	} {
		if code, _, errOut := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, errOut)
		}
	}
	// A malformed packet is a failure (exit 1) naming the offset.
	code, _, errOut := runCLI(t, otaArgs([]string{"ota", "open"}, "0020150619")...)
	if code != exitFailure || !strings.Contains(errOut, "offset") {
		t.Errorf("malformed: exit %d, %s", code, errOut)
	}
}
