package redistest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Proxy forwards TCP connections to a Server and counts the commands
// clients send through it: the round trips of a client that does not
// pipeline, whoever built it. INFO commandstats cannot tell them apart,
// since it also counts the commands a script runs inside the server.
// Build one with [Server.Proxy]; the zero value is not usable. A Proxy is
// safe for concurrent use; it is closed when the test ends.
type Proxy struct {
	// Addr is the proxy's "127.0.0.1:port", for redis.Options.Addr.
	Addr     string
	upstream string
	ln       net.Listener
	commands atomic.Int64

	mu    sync.Mutex // protects conns and done
	conns []net.Conn
	done  bool
	wg    sync.WaitGroup
}

// Proxy starts a counting proxy in front of s.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: s.Addr, ln: ln}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Commands returns how many commands went through since the start or the
// last Reset.
func (p *Proxy) Commands() int64 { return p.commands.Load() }

// Reset sets the count to zero.
func (p *Proxy) Reset() { p.commands.Store(0) }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_ = p.count(up, c)
			_ = up.Close()
		}()
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(c, up)
			_ = c.Close()
		}()
	}
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.done = true
	conns := p.conns
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

var errProtocol = errors.New("redistest: proxy: not a RESP request")

// count copies requests from src to dst, counting each: a RESP array of
// bulk strings (what clients send), or an inline command line.
func (p *Proxy) count(dst io.Writer, src io.Reader) error {
	r := bufio.NewReader(src)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if _, err := dst.Write(line); err != nil {
			return err
		}
		p.commands.Add(1)
		if line[0] != '*' {
			continue // an inline command: one line
		}
		n, err := resp(line, '*')
		if err != nil {
			return errProtocol
		}
		for range n {
			head, err := r.ReadSlice('\n')
			if err != nil {
				return err
			}
			if _, err := dst.Write(head); err != nil {
				return err
			}
			size, err := resp(head, '$')
			if err != nil {
				return err
			}
			if _, err := io.CopyN(dst, r, int64(size)+2); err != nil {
				return err
			}
		}
	}
}

// resp reads the number of a RESP header line such as "*3\r\n".
func resp(line []byte, kind byte) (int, error) {
	if len(line) < 4 || line[0] != kind || line[len(line)-2] != '\r' {
		return 0, errProtocol
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil || n < 0 {
		return 0, errProtocol
	}
	return n, nil
}

// Client returns a client connected through the proxy, closed when the
// test ends.
func (p *Proxy) Client(t testing.TB) *redis.Client { return newClient(t, p.Addr) }
