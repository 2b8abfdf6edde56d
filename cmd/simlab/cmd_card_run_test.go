package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestCardRun(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "card", "run", "--profile", "../../fixtures/cards/default.yaml", "--script", "testdata/card_run.apdu")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, w := range []string{"card default  ATR 3B9E", "SELECT", "response bytes still available (50)", "FCP template", "0020000108****************  VERIFY PIN", "reset  ATR", "6986 command not allowed (no EF selected)"} {
		if !strings.Contains(out, w) {
			t.Errorf("trace lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "31323334") {
		t.Errorf("trace shows the PIN:\n%s", out)
	}

	// Script on stdin, embedded default profile, JSON, a failing expectation.
	var o, e bytes.Buffer
	code = run(context.Background(), []string{"card", "run", "--script", "-", "--json"},
		strings.NewReader("00A4000C023F00 => 9000\n00A4000C026F99 => 9000\n"), &o, &e)
	if code != exitFailure || !strings.Contains(e.String(), "1 of 2 expectations failed") {
		t.Fatalf("failing script: exit %d, stderr %s", code, e.String())
	}
	var res cardRunResult
	if err := json.Unmarshal(o.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Profile != "default" || res.Failed != 1 || len(res.Trace) != 2 || res.Trace[1].SW != "6A82" || !res.Trace[1].Failed {
		t.Errorf("JSON result %+v", res)
	}

	if code, _, _ := runCLI(t, "card", "run"); code != exitUsage {
		t.Errorf("no --script: exit %d", code)
	}
	if code, _, errOut := runCLI(t, "card", "run", "--script", "testdata/no-such-file"); code != exitFailure {
		t.Errorf("missing script: exit %d %s", code, errOut)
	}
}
