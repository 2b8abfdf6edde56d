package trace

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// FlushEvery is how often a Recorder made by Create writes its buffered
// records to the file, so that a capture can be opened while it grows.
const FlushEvery = time.Second

// traceFile is the pcap file of a Recorder made by Create.
type traceFile struct {
	f    *os.File
	bw   *bufio.Writer
	stop chan struct{}
	done chan struct{}
	once sync.Once
	err  error
}

// Create returns a Recorder for the lab flags --pcap FILE and --gsmtap
// ADDR: a pcap file at path (created or truncated, buffered, written out
// every FlushEvery and by Close) and/or live GSMTAP to live, or nil, which
// records nothing, when both are empty. onError, if set, is told of the
// first recording failure that has no caller to return it to. Close
// flushes and closes the file.
func Create(path, live string, onError func(error)) (*Recorder, error) {
	if path == "" && live == "" {
		return nil, nil
	}
	o := Options{Live: live, OnError: onError}
	var tf *traceFile
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		tf = &traceFile{f: f, bw: bufio.NewWriterSize(f, 256<<10), stop: make(chan struct{}), done: make(chan struct{})}
		o.PCAP = tf.bw
	}
	r, err := New(o)
	if err != nil {
		if tf != nil {
			tf.f.Close()
		}
		return nil, err
	}
	if tf != nil {
		r.smpp.file = tf
		go r.flushLoop(tf)
	}
	return r, nil
}

// flushLoop writes the buffered records out every FlushEvery until Close.
func (r *Recorder) flushLoop(tf *traceFile) {
	defer close(tf.done)
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-tf.stop:
			return
		case <-t.C:
			r.fail(r.Flush())
		}
	}
}

// Flush writes the records a Recorder made by Create holds buffered to its
// file; for other Recorders it does nothing.
func (r *Recorder) Flush() error {
	if r == nil || r.smpp.file == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.smpp.file.bw.Flush(); err != nil {
		return fmt.Errorf("trace: write %s: %w", r.smpp.file.f.Name(), err)
	}
	return nil
}

// closeFile stops the flusher, flushes and closes the file of a Recorder
// made by Create.
func (r *Recorder) closeFile() error {
	tf := r.smpp.file
	if tf == nil {
		return nil
	}
	tf.once.Do(func() {
		close(tf.stop)
		<-tf.done
		tf.err = errors.Join(r.Flush(), tf.f.Close())
	})
	return tf.err
}
