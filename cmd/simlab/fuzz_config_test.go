package main

import (
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator"
)

// FuzzServeConfig: `simlab serve --config FILE` as read (unknown keys
// refused). A file that loads gives a configuration whose accounts pass
// their checks, and its errors never show an account's password.
func FuzzServeConfig(f *testing.F) {
	f.Add("smpp: 127.0.0.1:2775\nhttp: 127.0.0.1:8775\ndata: /var/lib/simlab\nsmpp_accounts:\n  - system_id: sut\n    password: s3cret\n    throughput: 500\n    mo_ranges: ['12345']\nprompt_timeout: 30s\nseed: 7\n")
	f.Add("smpp_accounts:\n  - system_id: sut\n    password: much-too-long\n")
	f.Add("prompt_timeout: soon\n")
	f.Add("bearers: ['smpp://u:p@h:1']\nattach: ['R=+4930123456']\n")
	f.Add("smpp: [1, 2]\n")
	f.Add("{{{")
	f.Fuzz(func(t *testing.T, src string) {
		var cfg simulator.Config
		if err := decodeYAMLConfig([]byte(src), &cfg); err != nil {
			for _, a := range cfg.Accounts {
				if len(a.Password) >= 4 && strings.Contains(err.Error(), a.Password) && !strings.Contains(src, a.Password+":") {
					t.Fatalf("error shows a password: %v", err)
				}
			}
			return
		}
		for _, a := range cfg.Accounts {
			if err := a.Validate(); err != nil {
				t.Fatalf("loaded an invalid account: %v", err)
			}
		}
	})
}
