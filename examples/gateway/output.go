package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// printer writes the drill's standard output: lines for people, or, with
// -json, one JSON object per line, so that every line of stdout parses
// (the slog records with it, which share its writer and its lock). Every
// object has a "type": "log" for slog records, and "run", "progress",
// "notice" or "report" for the drill's own.
//
// The zero value is not usable; build it with newPrinter. It is safe for
// concurrent use: the sampler and the main goroutine print at once.
type printer struct {
	mu   sync.Mutex // protects w: lines never interleave
	w    io.Writer
	json bool
}

func newPrinter(w io.Writer, json bool) *printer { return &printer{w: w, json: json} }

// Write writes p whole under the lock; it makes the printer the writer of
// the slog handler too.
func (p *printer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.w.Write(b)
}

// line is one thing the drill prints: text for people, v for -json.
func (p *printer) line(text string, v any) {
	if !p.json {
		_, _ = p.Write([]byte(text + "\n"))
		return
	}
	data, err := json.Marshal(v)
	if err != nil { // every value printed is plain data; say so rather than print half a line
		data, _ = json.Marshal(notice{Type: "notice", Message: "cannot encode a line: " + err.Error()})
	}
	_, _ = p.Write(append(data, '\n'))
}

// notice is a one-off message: where the status is served, where the
// report was written, a warning.
type notice struct {
	Type    string `json:"type"` // "notice"
	Level   string `json:"level"`
	Message string `json:"message"`
	URL     string `json:"url,omitempty"`
	Path    string `json:"path,omitempty"`
}

func (p *printer) info(msg string, n notice) {
	n.Type, n.Level, n.Message = "notice", "info", msg
	p.line(msg, n)
}

func (p *printer) warn(msg string) {
	p.line("warning: "+msg, notice{Type: "notice", Level: "warning", Message: msg})
}

// runHeader announces a run.
type runHeader struct {
	Type      string  `json:"type"` // "run"
	Run       string  `json:"run"`
	Title     string  `json:"title"`
	Scenario  string  `json:"scenario"`
	Seconds   float64 `json:"duration_seconds"`
	Rate      int     `json:"rate"`
	Store     string  `json:"store,omitempty"`
	Protected bool    `json:"protected"`
}

func (p *printer) header(h runHeader) {
	h.Type = "run"
	text := fmt.Sprintf("--- %s: scenario %q for %gs, %d payments/s", h.Title, h.Scenario, h.Seconds, h.Rate)
	if h.Store != "" {
		text += ", store " + h.Store
	}
	p.line(text, h)
}

// newLogger logs through the printer: readable text, or JSON lines typed
// "log".
func newLogger(p *printer) *slog.Logger {
	if p.json {
		return slog.New(slog.NewJSONHandler(p, nil)).With("type", "log")
	}
	return slog.New(slog.NewTextHandler(p, nil))
}
