package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeOTA(t *testing.T) {
	t.Parallel()
	// applet/ota/testdata/vectors.txt packet with its UDH: header only, ciphered part as hex.
	code, out, errOut := runCLI(t, "decode", "ota", "--json", "027000"+otaTestCmd)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		Type     string         `json:"type"`
		UDH      string         `json:"udh"`
		CPL      int            `json:"cpl"`
		CHL      int            `json:"chl"`
		SPI      map[string]any `json:"spi"`
		KIc      map[string]any `json:"kic"`
		TAR      string         `json:"tar"`
		Ciphered string         `json:"ciphered"`
		Clear    map[string]any `json:"clear"`
		Opened   map[string]any `json:"opened"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != "command" || d.UDH != "027000" || d.CPL != 32 || d.CHL != 21 || d.TAR != "b00011" || d.Ciphered != otaTestCmd[20:] ||
		d.SPI["integrity"] != "cc" || d.SPI["ciphered"] != true || d.SPI["por_integrity"] != "cc" || d.KIc["index"] != 3.0 || d.KIc["algorithm"] != "3des-2key" {
		t.Errorf("decoded %+v", d)
	}
	// With keys it is opened too.
	code, out, _ = runCLI(t, "decode", "ota", "--json", "--kic-key", otaTestKIc, "--kid-key", otaTestKID, otaTestCmd)
	d.Opened = nil
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != exitOK || d.Opened["data"] != "00a40004023f00" || d.Opened["cc_valid"] != true {
		t.Errorf("opened: exit %d %s", code, out)
	}
	// pySim's signed-only packet in clear (CPL restored): fields shown.
	code, out, _ = runCLI(t, "decode", "ota", "--json", "001d1502193535b00000000000000000072ea17bdb72060e00a40000023f00")
	d.Clear = nil
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != exitOK || d.Clear["checksum"] != "072ea17bdb72060e" || d.Clear["data"] != "00a40000023f00" {
		t.Errorf("clear: exit %d %s", code, out)
	}
	// A PoR (applet/ota/testdata/vectors.txt): without the SPI only the header; with it the fields.
	por := "027100001612b0001100000000000000b5bcd6353a421fae016132"
	code, out, _ = runCLI(t, "decode", "ota", por)
	if code != exitOK || !strings.Contains(out, "response packet") || !strings.Contains(out, "RHL              18") {
		t.Errorf("PoR text: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "decode", "ota", "--json", "--spi", "0609", "--kic", "35", "--kid", "35", por)
	d.Clear = nil
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != exitOK || d.Type != "response" || d.Clear["status"] != 0.0 || d.Clear["data"] != "016132" {
		t.Errorf("PoR: exit %d %s", code, out)
	}
	// Garbage is an error naming the offset.
	if code, _, errOut := runCLI(t, "decode", "ota", "0102"); code != exitFailure || !strings.Contains(errOut, "offset") {
		t.Errorf("garbage: exit %d %s", code, errOut)
	}
}
