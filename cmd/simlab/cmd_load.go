package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

func init() { register(newLoadCmd) }

// rangeArg tells a RANGE argument of --to from a FILE.
var rangeArg = regexp.MustCompile(`^\s*\+?[0-9]+\s*(-\s*\+?[0-9]+\s*)?$`)

func newLoadCmd(a *app) *cobra.Command {
	var (
		smpp        client.Config
		binds       int
		to, kind    string
		rate        float64
		duration    time.Duration
		ramp        time.Duration
		timeout     time.Duration
		maxInFlight int
		outDir      string
		asJSON      bool
		progress    string
		api         string
		clientName  string
		binding     string
		source      string
		cpuProfile  string
		noVerify    bool
		verifyEvery int
		prompt      time.Duration
		fleetRef    string
		gate        load.Gate
		tracing     traceFlags
		shardSpec   string
		startAt     string
		barrier     string
		barrierLead time.Duration
	)
	c := &cobra.Command{
		Use:   "load",
		Short: "Open-loop load: push challenges or SMS at a fixed rate, with honest latency",
		Long: `load sends challenges (LoA 2, 3 or 3 falling back to 2), OTP texts or plain
texts through an SMSC at a constant arrival rate (open loop: arrivals never wait
for answers), and reports every challenge: sent = completed + failed + timed_out.

Latency is measured from each challenge's intended send time on the schedule,
so a stalled SMSC or fleet shows in the figures (no coordinated omission):
  challenges (--loa 2|3|3,2): submit → verified answer, as "simlab push" does
  text, otp:                  submit → delivery receipt
plus submit_sm → submit_sm_resp, in HDR histograms (p50 p90 p99 p99.9 max).

--to is a RANGE (+99901000000-+99901000999, 99901001000-99901001999) or a FILE
with one MSISDN per line; numbers are used round-robin. Use at least
rate × latency distinct numbers: a phone busy with one challenge refuses the next.

Challenges are sealed with keys derived from the cards' ICCIDs in the
embedded plan; against a server running a fleet file give --fleet FILE, or
--fleet URL (the server's HTTP API) to read its plan.

Live progress goes to stderr: one line redrawn in place on a terminal, else
(a CI log) a line every 5 seconds (--progress always|never to override). The summary goes to stdout (--json for JSON); --out DIR also writes
report.json, report.txt and report.html (plots, viewable offline).

Exit status (a CI gate): 0 when every challenge sent completed (an answer or
a network outcome came, whatever it said) and the p99 is within --max-p99
when given; 1 when challenges failed or timed out beyond --min-completed
(default 1: all must complete), the p99 is above --max-p99, the run could
not start (bind refused, SMSC unreachable) or the SMSC closed the connection
during the run (the run stops at once: "the SMSC closed the connection");
2 for a usage error. The report
is written either way. The bind password may also come from
$SIMLAB_SMPP_PASSWORD, the HTTP API's token (--loa otp --api, --fleet URL)
from $SIMLAB_API_TOKEN.

Past one machine (docs/load-distributed.md): --shard I/N runs the I-th of N
equal parts of the schedule (same --rate, --duration, --to on every shard: the
rate and the numbers are split, intended send times come from the whole
schedule), started together by --start-at TIME (RFC 3339) or --barrier DIR (a
directory the shards share, one per run); each writes its report and HDR interval log
(latency.hlog) to --out, and "simlab load merge DIR…" adds them up.`,
		Example: `  simlab load --to +99901000000-+99901000999 --rate 100 --duration 10s
  simlab load --to +99901000000-+99901009999 --loa 3 --rate 500 --duration 30s --out /tmp/run
  simlab load --to 99901001000-99901001999 --loa text --rate 200 --duration 10s --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usagef("--to is required (a RANGE like +99901000000-+99901000999, or a FILE)")
			}
			nums, err := parseTo(to)
			if err != nil {
				return usageError{err}
			}
			if err := addrFlag("smpp", smpp.Addr); err != nil {
				return err
			}
			if source != "" {
				if err := sourceFlag("source", source); err != nil {
					return err
				}
			}
			if loa, err := authn.ParseLoA(kind); err == nil {
				if err := push.CheckTexts(loa, clientName, binding, ""); err != nil {
					return usageError{err}
				}
			}
			var shard load.Shard
			if shardSpec != "" {
				if shard, err = load.ParseShard(shardSpec); err != nil {
					return usageError{err}
				}
				if nums, err = nums.Shard(shard); err != nil {
					return usageError{err}
				}
			}
			var start time.Time
			if startAt != "" {
				if start, err = time.Parse(time.RFC3339Nano, startAt); err != nil {
					return usagef("--start-at %q: want an RFC 3339 time such as 2030-01-02T15:04:05Z", startAt)
				}
				if barrier != "" {
					return usagef("--start-at and --barrier both set the start: give one")
				}
				if late := time.Since(start); late > load.MaxLate {
					return usagef("--start-at %s was %s ago: a start more than %s ago would charge every arrival more than a latency can be (the time's year or zone?)",
						startAt, late.Round(time.Second), load.MaxLate)
				}
			}
			if shard.Count > 1 {
				if outDir == "" {
					return usagef("--shard needs --out DIR: \"simlab load merge\" reads the shard's report and histograms there")
				}
				if startAt == "" && barrier == "" {
					return usagef("--shard needs --start-at TIME or --barrier DIR, so that the shards' schedules line up")
				}
			}
			if barrierLead < 0 {
				return usagef("--barrier-lead must not be negative")
			}
			if !(rate > 0) {
				return usagef("--rate must be positive")
			}
			if duration <= 0 {
				return usagef("--duration must be positive")
			}
			if ramp < 0 || ramp > duration {
				return usagef("--ramp must be between 0 and --duration")
			}
			if binds < 1 {
				return usagef("--binds must be at least 1")
			}
			show, err := wantProgress(progress, asJSON, a.stderr)
			showProgress := show == progressLive
			if err != nil {
				return err
			}
			if verifyEvery < 1 {
				return usagef("--verify-every must be at least 1")
			}
			if timeout <= 0 {
				return usagef("--timeout must be positive")
			}
			if !(gate.MinCompleted >= 0 && gate.MinCompleted <= 1) {
				return usagef("--min-completed must be between 0 and 1 (a share of the challenges sent)")
			}
			if gate.MaxP99 < 0 {
				return usagef("--max-p99 must not be negative")
			}
			if prompt <= 0 {
				// The card's own "no answer" must come back before the
				// run gives up on the challenge.
				prompt = max(timeout*4/5, time.Second)
			}
			smpp.Password = smppPassword(smpp.Password)
			smpp.NoReconnect = true // a dropped SMSC ends the run: exit 1
			ctx := cmd.Context()
			var plan *fleet.Directory
			if fleetRef != "" {
				if plan, err = load.OpenFleet(ctx, fleetRef, os.Getenv(apiTokenEnv)); err != nil {
					return err
				}
			}
			// --out first: a directory that cannot be written fails the
			// run before the binds and the key derivation, not after.
			var hlog *histogramFile
			if outDir != "" {
				if hlog, err = createHistogramLog(outDir); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer hlog.Close()
			}
			rec, closeTrace, err := tracing.open(a.stderr)
			if err != nil {
				return err
			}
			defer closeTrace()
			if rec != nil {
				smpp.Tracer = rec
			}
			tgt, err := load.NewTarget(ctx, load.TargetConfig{
				SMPP: smpp, Binds: binds, Kind: kind, Numbers: nums, PromptTimeout: prompt,
				ClientName: clientName, BindingMessage: binding, Source: source, CaptureURL: api, CaptureToken: os.Getenv(apiTokenEnv), NoVerify: noVerify,
				VerifyEvery: verifyEvery, Fleet: plan,
			})
			if err != nil {
				if isKindErr(err) {
					return usageError{err}
				}
				return err
			}
			defer func() {
				cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				tgt.Close(cctx)
			}()
			if ch, ok := tgt.Target.(*load.Challenges); ok {
				// A push server knows its cards before it pushes: derive
				// the keys of the numbers the run will use before the
				// clock starts, so that derivation is not charged to the
				// first challenges (nor steals the CPU of a local serve).
				n := min(int(math.Ceil(rate*duration.Seconds()/float64(max(shard.Count, 1)))), load.MaxWarm)
				if showProgress {
					fmt.Fprintf(a.stderr, "deriving the keys of up to %d cards before the run…\n", n)
				}
				if err := ch.Warm(ctx, n); err != nil {
					return notInPlanHint(err, fleetRef)
				}
			}
			if barrier != "" {
				sh := shard
				if sh.Count == 0 {
					sh = load.Shard{Count: 1}
				}
				if showProgress {
					fmt.Fprintf(a.stderr, "waiting in %s for the %d shards of the run…\n", barrier, sh.Count)
				}
				if start, err = load.AwaitBarrier(ctx, barrier, sh, barrierLead); err != nil {
					return err
				}
			}
			if wait := time.Until(start); wait > time.Second {
				// Said whatever --progress is: without it a run waiting
				// for a start hours away looks hung.
				fmt.Fprintf(a.stderr, "simlab: load: waiting %s for the run's start, %s\n", wait.Round(time.Second), start.UTC().Format(time.RFC3339))
			}
			if late := time.Since(start); !start.IsZero() && late > 100*time.Millisecond {
				fmt.Fprintf(a.stderr, "simlab: warning: the run's start was %s ago: the arrivals already due leave at once, each charged from its intended time\n", late.Round(time.Millisecond))
			}
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			cfg := load.Config{Rate: rate, Duration: duration, Ramp: ramp, Timeout: timeout, MaxInFlight: maxInFlight,
				Shard: shard, Start: start}
			if hlog != nil {
				cfg.HistogramLog = hlog
			}
			switch show {
			case progressLive:
				cfg.Progress = func(p load.Progress) { fmt.Fprintf(a.stderr, "\r%s\x1b[K", load.FormatProgress(p)) }
			case progressLines:
				cfg.ProgressEvery = ciProgressEvery
				cfg.Progress = func(p load.Progress) { fmt.Fprintf(a.stderr, "simlab load: %s\n", load.FormatProgress(p)) }
			}
			// A dropped SMSC ends the run at once: without it no answer
			// or receipt can come, and the rest would only time out.
			runCtx, stopRun := context.WithCancel(ctx)
			defer stopRun()
			go func() {
				select {
				case <-tgt.Lost():
					stopRun()
				case <-runCtx.Done():
				}
			}()
			rep, err := load.Run(runCtx, cfg, tgt)
			if err != nil {
				return usageError{err}
			}
			lost := tgt.LostErr()
			rep.Kind = strings.ReplaceAll(strings.TrimSpace(kind), " ", ",")
			if showProgress { // the final figures, then a new line
				fmt.Fprintf(a.stderr, "\r%s\x1b[K\n", load.FormatProgress(load.Progress{
					Elapsed: time.Duration(rep.DurationS * float64(time.Second)), Sent: rep.Sent, Rate: rep.Rate,
					Completed: rep.Completed, Failed: rep.Failed, TimedOut: rep.TimedOut,
					P50: msToDuration(rep.Latency.P50), P99: msToDuration(rep.Latency.P99),
				}))
			}
			if outDir != "" {
				if err := hlog.Close(); err != nil {
					return err
				}
				if err := writeLoadReports(outDir, rep, loadTitle(rep)); err != nil {
					return err
				}
			}
			if lost != nil {
				_ = printReport(a, rep, asJSON, load.Gate{})
				return fmt.Errorf("load: %s: the run stopped after %.1fs (the report is of what was sent until then)", strings.TrimPrefix(lost.Error(), "push: "), rep.DurationS)
			}
			return printReport(a, rep, asJSON, gate)
		},
	}
	f := c.Flags()
	f.StringVar(&smpp.Addr, "smpp", "127.0.0.1:2775", "SMSC address host:port")
	f.StringVar(&smpp.SystemID, "system-id", "load", "bind system_id")
	f.StringVar(&smpp.Password, "password", "", "bind password (or $SIMLAB_SMPP_PASSWORD)")
	f.IntVar(&binds, "binds", 4, "SMPP sessions (transceiver binds)")
	f.IntVar(&smpp.Window, "window", 50, "submit_sm outstanding per bind")
	f.StringVar(&to, "to", "", "destination RANGE (FIRST-LAST, numbers of the plan) or FILE (one MSISDN per line)")
	f.StringVar(&kind, "loa", "3", "what to send: 2, 3, 3,2 (challenges), otp or text")
	f.Float64Var(&rate, "rate", 100, "arrival rate at full speed, per second")
	f.DurationVar(&duration, "duration", 10*time.Second, "length of the arrival schedule, ramp included")
	f.DurationVar(&ramp, "ramp", 0, "grow the rate linearly from 0 over this time")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "per-challenge timeout, from its actual start")
	f.DurationVar(&prompt, "prompt-timeout", 0, "prompt timeout sent to the cards (default 4/5 of --timeout, at least 1s)")
	f.IntVar(&maxInFlight, "max-in-flight", 0, "bound on challenges under way (default rate × timeout, at most 100000)")
	f.StringVar(&outDir, "out", "", "write report.json, report.txt and report.html to this directory")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&progress, "progress", "auto", "live progress on stderr: auto (when a terminal and not --json), always, never")
	f.StringVar(&api, "api", "", "with --loa otp: simlab's HTTP base URL, to read each code back from the capture API")
	f.StringVar(&clientName, "client-name", "", `client_name shown on the phones (default "simlab load")`)
	f.StringVar(&binding, "binding-message", "", "binding_message shown on the phones")
	f.BoolVar(&noVerify, "no-verify", false, "accept challenge answers without checking their ECDSA signature (still opened and matched): 40-45% of the generator's CPU")
	f.IntVar(&verifyEvery, "verify-every", 1, "check the ECDSA signature of one challenge answer in N (every answer is still opened and matched); N > 1 keeps the generator's verification from measuring itself on a shared machine")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the generator's run to FILE (go tool pprof -top FILE)")
	f.StringVar(&source, "source", "", `sender of text and otp messages (default "99955501"; letters make it alphanumeric)`)
	f.StringVar(&fleetRef, "fleet", "", "the plan the server runs, for the cards' keys: a fleet FILE or the server's HTTP base URL (default: the embedded plan)")
	f.Float64Var(&gate.MinCompleted, "min-completed", 1, "share of the challenges sent (0-1) that must complete, or the exit status is 1")
	f.DurationVar(&gate.MaxP99, "max-p99", 0, "fail (exit status 1) when the end-to-end p99 latency is above this (default: no bound)")
	tracing.register(c)
	f.StringVar(&shardSpec, "shard", "", "run shard I of N equal parts of the schedule: I/N, 0-based (docs/load-distributed.md); needs --out and --start-at or --barrier")
	f.StringVar(&startAt, "start-at", "", "start the schedule at this RFC 3339 time (shards of one run share it)")
	f.StringVar(&barrier, "barrier", "", "a directory the shards share: wait until every shard is ready there, then start together")
	f.DurationVar(&barrierLead, "barrier-lead", 5*time.Second, "with --barrier: start this long after the last shard became ready")
	c.AddCommand(newLoadMergeCmd(a))
	return c
}

// parseTo reads --to: a range, or a file of numbers.
func parseTo(s string) (load.Numbers, error) {
	if rangeArg.MatchString(s) {
		return load.ParseRange(s)
	}
	f, err := os.Open(s)
	if err != nil {
		return load.Numbers{}, fmt.Errorf("--to %q is neither a RANGE nor a readable file: %w", s, err)
	}
	defer f.Close()
	ns, err := load.ReadNumbers(f)
	if err != nil {
		return load.Numbers{}, fmt.Errorf("--to %s: %w", s, err)
	}
	return ns, nil
}

// How load shows its progress on stderr.
const (
	progressNone  = iota
	progressLive  // one line redrawn in place (a terminal)
	progressLines // a line every ciProgressEvery (a CI log)
)

// wantProgress decides how to show progress: --progress always draws the
// live line, never nothing; auto the live line on a terminal (unless
// --json), else a plain line every few seconds.
func wantProgress(mode string, asJSON bool, stderr io.Writer) (int, error) {
	switch mode {
	case "always":
		return progressLive, nil
	case "never":
		return progressNone, nil
	case "auto":
		switch {
		case !isTerminal(stderr):
			return progressLines, nil
		case asJSON:
			return progressNone, nil
		}
		return progressLive, nil
	}
	return progressNone, usagef("--progress %q: want auto, always or never", mode)
}

// isTerminal reports whether w is a character device (a terminal), without
// cgo or x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func msToDuration(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func isKindErr(err error) bool {
	return errors.Is(err, load.ErrKind) || errors.Is(err, load.ErrConfig) || errors.Is(err, load.ErrNumbers)
}

// printReport prints the summary (or, with asJSON, the JSON report) to
// stdout and returns the gate's verdict: the exit status of load and
// load merge.
func printReport(a *app, rep *load.Report, asJSON bool, gate load.Gate) error {
	var err error
	if asJSON {
		err = writeJSON(a.stdout, rep)
	} else {
		err = rep.WriteText(a.stdout)
	}
	if err != nil {
		return err
	}
	return rep.Check(gate)
}

// loadTitle is the title of a report's HTML page.
func loadTitle(rep *load.Report) string {
	sc := rep.Schedule
	switch {
	case sc.Merged:
		return fmt.Sprintf("simlab load --loa %s: %.0f/s for %.0fs, %d shards merged", rep.Kind, sc.Rate, rep.DurationS, sc.Shards)
	case sc.Shards > 1:
		return fmt.Sprintf("simlab load --loa %s: shard %d/%d of %.0f/s for %.0fs", rep.Kind, sc.Shard, sc.Shards, sc.Rate, rep.DurationS)
	}
	return fmt.Sprintf("simlab load --loa %s: %.0f/s for %.0fs", rep.Kind, rep.TargetRate, rep.DurationS)
}

// writeLoadReports writes report.txt, report.html and report.json to dir,
// report.json last and whole (written aside, then renamed): a directory
// holding it holds a finished run (what "load merge --wait" waits for).
func writeLoadReports(dir string, rep *load.Report, title string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(io.Writer) error) error {
		tmp := filepath.Join(dir, "."+name+".tmp")
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			os.Remove(tmp)
			return err
		}
		return os.Rename(tmp, filepath.Join(dir, name))
	}
	if err := write("report.txt", rep.WriteText); err != nil {
		return err
	}
	if err := write("report.html", func(w io.Writer) error { return rep.WriteHTML(w, title) }); err != nil {
		return err
	}
	return write(load.ReportName, func(w io.Writer) error { return writeJSON(w, rep) })
}

// histogramFile is the run's HDR interval log being written to --out
// (load.HistogramLogName), buffered; Close flushes and closes it once.
type histogramFile struct {
	*bufio.Writer
	f      *os.File
	closed bool
}

// createHistogramLog creates dir (if need be) and its histogram log; a
// report.json already there (an earlier run's) is removed first, so that
// the directory never pairs an old report with a new log.
func createHistogramLog(dir string) (*histogramFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(filepath.Join(dir, load.ReportName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, load.HistogramLogName))
	if err != nil {
		return nil, err
	}
	return &histogramFile{Writer: bufio.NewWriter(f), f: f}, nil
}

func (h *histogramFile) Close() error {
	if h == nil || h.closed {
		return nil
	}
	h.closed = true
	err := h.Flush()
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// startCPUProfile writes a CPU profile to path (none when path is empty)
// until the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	pf, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); pf.Close() }, nil
}
