package simulator

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/trace"
)

// TraceConfig is where serve records its SMPP sessions and its phones'
// APDUs for Wireshark (docs/lab.md, "Traces"). Both may be set: the same
// exchanges go to both.
type TraceConfig struct {
	// PCAP is a pcap file (created or truncated): SMPP as TCP streams on
	// port 2775, APDUs as GSMTAP SIM frames, in one capture.
	PCAP string `yaml:"pcap" json:"pcap,omitempty"`
	// GSMTAP is a UDP address (e.g. 127.0.0.1:4729) that gets the APDUs
	// live as GSMTAP; the SMPP streams go live to the same host on UDP
	// port 4789 as VXLAN frames.
	GSMTAP string `yaml:"gsmtap" json:"gsmtap,omitempty"`
	// APDUSessions is how many SMS-PP download sessions, fleet-wide and
	// most recent first, keep their APDU trace in the phones' event logs
	// (fleet.Config.MaxTraces: 0 is fleet.DefaultMaxTraces, -1 none, at
	// most MaxAPDUSessions);
	// older sessions keep their event without the APDUs.
	APDUSessions int `yaml:"apdu_sessions" json:"apdu_sessions,omitempty"`
}

// MaxAPDUSessions bounds TraceConfig.APDUSessions: a trace takes 0.5 to
// 1.2 KB (docs/fleet.md, fleet.DefaultMaxTraces), so at most about 1 GB.
const MaxAPDUSessions = 1_000_000

// validate checks APDUSessions: -1 (none kept), 0 (the default) or a
// count up to MaxAPDUSessions.
func (c TraceConfig) validate() error {
	if c.APDUSessions < -1 || c.APDUSessions > MaxAPDUSessions {
		return fmt.Errorf("serve: trace.apdu_sessions %d: want -1 (keep none), 0 or left out (the default, %d) or a count up to %d", c.APDUSessions, fleet.DefaultMaxTraces, MaxAPDUSessions)
	}
	return nil
}

// startTrace returns serve's recorder, or nil without a trace configured.
func startTrace(cfg TraceConfig, log *slog.Logger) (*trace.Recorder, error) {
	return trace.Create(cfg.PCAP, cfg.GSMTAP, func(err error) { log.Warn("trace: recording failed", "err", err) })
}

// apduTrace is the fleet's Trace hook recording into rec; nil without one.
func apduTrace(rec *trace.Recorder) func(msisdn string, capdu, rapdu []byte) {
	if rec == nil {
		return nil
	}
	return func(_ string, capdu, rapdu []byte) { rec.Report(rec.APDU(time.Time{}, capdu, rapdu)) }
}
