package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/load"
)

func newLoadMergeCmd(a *app) *cobra.Command {
	var (
		outDir string
		asJSON bool
		wait   time.Duration
		gate   load.Gate
	)
	c := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Merge the reports of the shards of one load run into one report",
		Long: `merge adds up what the shards of one run ("simlab load --shard I/N --out DIR")
wrote: counts summed, HDR histograms merged bucket by bucket (percentiles are
never averaged), the per-second series aligned on the shared start. The result
is the report one process running the whole schedule would have written, with
each shard's own figures under "parts".

Each DIR is a shard's --out directory, or a directory whose subdirectories are
(merged reports among them are skipped). Every shard of the run must be there
exactly once; --wait D waits up to D for the missing ones (a shard's
report.json is written last, when it has finished).

The summary goes to stdout (--json for JSON); --out DIR writes report.json,
report.txt, report.html (plots) and latency.hlog (the merged HDR interval log).
The exit status is a CI gate, as for "simlab load": 1 when challenges failed or
timed out beyond --min-completed, or the p99 is above --max-p99.`,
		Example: `  simlab load merge --out /tmp/merged /tmp/shard-0 /tmp/shard-1 /tmp/shard-2
  simlab load merge --wait 30m --out /results/run-1/merged /results/run-1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("load merge needs at least one DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !(gate.MinCompleted >= 0 && gate.MinCompleted <= 1) {
				return usagef("--min-completed must be between 0 and 1 (a share of the challenges sent)")
			}
			if gate.MaxP99 < 0 || wait < 0 {
				return usagef("--max-p99 and --wait must not be negative")
			}
			ctx := cmd.Context()
			deadline := time.Now().Add(wait)
			var dirs []string
			for {
				// While waiting, only the reports are read: the
				// histogram logs once, when every shard is there.
				var err error
				if dirs, err = load.FindShards(args); err != nil {
					return err
				}
				var heads []*load.ShardReport
				for _, d := range dirs {
					r, err := load.ReadReport(d)
					if err != nil {
						return err
					}
					heads = append(heads, &load.ShardReport{Dir: d, Report: r})
				}
				missing, n := load.Missing(heads)
				if len(heads) > 0 && len(missing) == 0 || !time.Now().Before(deadline) {
					break
				}
				t := time.NewTimer(time.Second)
				select {
				case <-ctx.Done():
					t.Stop()
					return fmt.Errorf("load merge: stopped waiting with %d of %d shards", len(heads), max(n, 1))
				case <-t.C:
				}
			}
			if len(dirs) == 0 {
				return fmt.Errorf("load merge: no shard report (%s) in %v", load.ReportName, args)
			}
			var parts []*load.ShardReport
			for _, d := range dirs {
				p, err := load.ReadShard(d)
				if err != nil {
					return err
				}
				parts = append(parts, p)
			}
			rep, hist, err := load.Merge(parts)
			if err != nil {
				return err
			}
			if outDir != "" {
				if err := writeMerged(outDir, rep, hist); err != nil {
					return err
				}
			}
			return printReport(a, rep, asJSON, gate)
		},
	}
	f := c.Flags()
	f.StringVar(&outDir, "out", "", "write report.json, report.txt, report.html and latency.hlog to this directory")
	f.BoolVar(&asJSON, "json", false, "print the merged report as JSON")
	f.DurationVar(&wait, "wait", 0, "wait up to this long for every shard of the run to finish")
	f.Float64Var(&gate.MinCompleted, "min-completed", 1, "share of the challenges sent (0-1) that must complete, or the exit status is 1")
	f.DurationVar(&gate.MaxP99, "max-p99", 0, "fail (exit status 1) when the merged end-to-end p99 latency is above this (default: no bound)")
	return c
}

// writeMerged writes the merged histogram log, then the reports.
func writeMerged(dir string, rep *load.Report, hist *load.Histograms) error {
	hf, err := createHistogramLog(dir)
	if err != nil {
		return err
	}
	if err := hist.WriteLog(hf, fmt.Sprintf("simlab load merge: %d shards", rep.Schedule.Shards)); err != nil {
		hf.Close()
		return fmt.Errorf("%s: %w", filepath.Join(dir, load.HistogramLogName), err)
	}
	if err := hf.Close(); err != nil {
		return err
	}
	if err := writeLoadReports(dir, rep, loadTitle(rep)); err != nil {
		os.Remove(filepath.Join(dir, load.ReportName))
		return err
	}
	return nil
}
