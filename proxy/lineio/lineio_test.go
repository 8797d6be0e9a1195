package lineio

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func reader(s string, max int) *Reader {
	return New(bufio.NewReaderSize(strings.NewReader(s), max+2), max)
}

func TestReadLine(t *testing.T) {
	r := reader("a1 NOOP\r\nbare lf\n\r\nlast", 64)
	for _, want := range []string{"a1 NOOP", "bare lf", ""} {
		got, err := r.ReadLine()
		if err != nil || string(got) != want {
			t.Fatalf("ReadLine = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.ReadLine(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("unterminated last line: %v", err)
	}
	if _, err := r.ReadLine(); !errors.Is(err, io.EOF) {
		t.Fatalf("after end: %v", err)
	}
}

func TestTooLongLineIsSkippedThenReadingResumes(t *testing.T) {
	r := reader(strings.Repeat("x", 100)+"\r\nok\r\n", 16)
	if _, err := r.ReadLine(); !errors.Is(err, ErrTooLong) || errors.Is(err, ErrDrop) {
		t.Fatalf("long line: %v, want ErrTooLong without ErrDrop", err)
	}
	if got, err := r.ReadLine(); err != nil || string(got) != "ok" {
		t.Fatalf("after long line: %q, %v", got, err)
	}
}

func TestLineJustOverLimitInBuffer(t *testing.T) {
	r := New(bufio.NewReaderSize(strings.NewReader("12345678901\r\nok\r\n"), 64), 10)
	if _, err := r.ReadLine(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("err = %v", err)
	}
	if got, _ := r.ReadLine(); string(got) != "ok" {
		t.Fatalf("next = %q", got)
	}
}

func TestEndlessLineMustDrop(t *testing.T) {
	r := reader(strings.Repeat("y", 200_000), 16)
	if _, err := r.ReadLine(); !errors.Is(err, ErrDrop) {
		t.Fatalf("endless line: %v, want ErrDrop", err)
	}
}
