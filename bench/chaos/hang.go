package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Hanger accepts connections, reads what comes, and never answers.
type Hanger struct {
	URL      string
	ln       net.Listener
	mu       sync.Mutex
	conns    []net.Conn
	accepted atomic.Int64
}

func NewHanger() (*Hanger, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &Hanger{URL: "http://" + ln.Addr().String() + "/hang", ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.accepted.Add(1)
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	return h, nil
}

func (h *Hanger) Close() {
	h.ln.Close()
	h.mu.Lock()
	for _, c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()
}

var (
	merchantA = Merchant{"chaos-a", "chaos-a-key-000000001", "chaos-a-secret"}
	merchantB = Merchant{"chaos-b", "chaos-b-key-000000002", "chaos-b-secret"}
)

// twoMerchantConfig writes config/default.yaml with its merchants replaced by A and B.
func twoMerchantConfig(env *Env, urlA, urlB string) (string, error) {
	b, err := os.ReadFile(filepath.Join(env.Repo, "config", "default.yaml"))
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.Index(s, "\nmerchants:")
	j := strings.Index(s, "\nbanks:")
	if i < 0 || j < i {
		return "", fmt.Errorf("config/default.yaml: no merchants: … banks: sections to replace")
	}
	var m strings.Builder
	m.WriteString("\nmerchants:\n")
	for _, x := range []struct {
		mc  Merchant
		url string
	}{{merchantA, urlA}, {merchantB, urlB}} {
		fmt.Fprintf(&m, "  - username: %s\n    api_key: %s\n    secret_key: %s\n    callback_url: %q\n    currencies:\n", x.mc.User, x.mc.APIKey, x.mc.Secret, x.url)
		m.WriteString("      - {code: MYR, min: 1, max: 50000, deposit_charge_percent: 3, payout_fee: 5, start_balance: 1000000}\n")
	}
	out := s[:i] + m.String() + s[j:]
	p := filepath.Join(env.Tmp, "two-merchants.yaml")
	return p, os.WriteFile(p, []byte(out), 0o600)
}

// trialHang: A's receiver never answers; 200 of A's callbacks queue; then B's deposits
// are settled one by one and the time to each callback's arrival at B is measured.
func trialHang(ctx context.Context, t *T) []Row {
	nA, nB := 200, 100
	if t.Env.Quick {
		nB = 50
	}
	hang, recv, sb, rows := startHang(ctx, t)
	if rows != nil {
		return rows
	}
	defer hang.Close()
	defer recv.Close()
	defer sb.Stop()
	tokA, errA := auth(ctx, sb.URL, merchantA)
	tokB, errB := auth(ctx, sb.URL, merchantB)
	if errA != nil || errB != nil {
		return []Row{{Measured: "auth", Figure: fmt.Sprint(errA, errB), Goal: "-", Result: "FAIL"}}
	}
	// B's deposits first, pending, so settling them later is a single admin call each.
	var bad atomic.Int64
	createDeposits(ctx, sb.URL, tokB, "B", nB, "pending@example.com", &bad)
	// 200 of A's deposits complete at creation: 200 callbacks to the hanging receiver.
	createDeposits(ctx, sb.URL, tokA, "A", nA, "success@example.com", &bad)
	time.Sleep(300 * time.Millisecond) // let A's deliveries take the workers
	t.Logf("A's hanging receiver holds %d connections before B's first settle", hang.accepted.Load())
	sent, settleErrs := settleB(ctx, t, sb.URL, nB)
	// Wait (at most 5 s) for B's callbacks still on their way.
	waitUntil(ctx, 5*time.Second, 50*time.Millisecond, func() bool {
		for id := range sent {
			if _, ok := recv.First(id); !ok {
				return false
			}
		}
		return true
	})
	lat, missing := latencies(sent, recv)
	p50, p99 := quantile(lat, 0.50), quantile(lat, 0.99)
	ms := func(v float64) string {
		if math.IsInf(v, 1) {
			return "never"
		}
		return fmt.Sprintf("%.1f ms", v)
	}
	t.Logf("%d of B's settlements sent (%d errors), %d callbacks never arrived within 5 s; %d orders refused at creation; hanging receiver accepted %d connections",
		len(sent), settleErrs, missing, bad.Load(), hang.accepted.Load())
	return []Row{{
		Measured: fmt.Sprintf("B settle→callback latency, %d of A's callbacks hanging", nA),
		Figure:   fmt.Sprintf("p50 %s, p99 %s (%d of %d arrived)", ms(p50), ms(p99), len(sent)-missing, len(sent)),
		Goal:     "p99 <= 100 ms",
		Result:   pass(len(sent) == nB && p99 <= 100),
	}}
}

// startHang starts A's hanging receiver, B's receiver and a sandbox with merchants A
// and B. When it cannot, rows says why and nothing is left running.
func startHang(ctx context.Context, t *T) (hang *Hanger, recv *Receiver, sb *Sandbox, rows []Row) {
	hang, err := NewHanger()
	if err != nil {
		return nil, nil, nil, failed("receiver", err)
	}
	recv, err = NewReceiver()
	if err != nil {
		hang.Close()
		return nil, nil, nil, failed("receiver", err)
	}
	cfg, err := twoMerchantConfig(t.Env, hang.URL, recv.URL)
	if err == nil {
		sb, err = Start(ctx, t.Env, Opts{Data: filepath.Join(t.Env.Tmp, "hang.db"), Config: cfg})
		if err != nil {
			rows = startFailed(err)
		}
	} else {
		rows = failed("config", err)
	}
	if rows != nil {
		recv.Close()
		hang.Close()
		return nil, nil, nil, rows
	}
	return hang, recv, sb, nil
}

// createDeposits creates n deposits with ids prefix-0000…; bad counts the refused.
func createDeposits(ctx context.Context, base, token, prefix string, n int, email string, bad *atomic.Int64) {
	parallel(ctx, n, 8, func(i int) {
		if ok, _ := deposit(ctx, base, token, fmt.Sprintf("%s-%04d", prefix, i), email); !ok {
			bad.Add(1)
		}
	})
}

// settleB settles B's deposits one by one and returns when each settle was sent.
func settleB(ctx context.Context, t *T, base string, nB int) (sent map[string]time.Time, settleErrs int) {
	sent = make(map[string]time.Time, nB)
	for i := 0; i < nB && ctx.Err() == nil; i++ {
		id := fmt.Sprintf("B-%04d", i)
		t0 := time.Now()
		code, body, err := post(ctx, base+"/sandbox/api/deposits/"+id+"/settle", url.Values{"outcome": {"completed"}, "merchant": {merchantB.User}})
		if err != nil || code != 200 {
			settleErrs++
			if settleErrs == 1 {
				t.Logf("settle %s: HTTP %d %.200s %v", id, code, body, err)
			}
			continue
		}
		sent[id] = t0
		time.Sleep(20 * time.Millisecond)
	}
	return sent, settleErrs
}

// latencies are the settle→callback times in ms, sorted, +Inf for the missing.
func latencies(sent map[string]time.Time, recv *Receiver) (lat []float64, missing int) {
	for id, t0 := range sent {
		if t1, ok := recv.First(id); ok {
			lat = append(lat, float64(t1.Sub(t0).Microseconds())/1000)
		} else {
			missing++
			lat = append(lat, math.Inf(1))
		}
	}
	sort.Float64s(lat)
	return lat, missing
}

// quantile of sorted values; +Inf when there are none.
func quantile(lat []float64, p float64) float64 {
	if len(lat) == 0 {
		return math.Inf(1)
	}
	return lat[int(math.Ceil(p*float64(len(lat))))-1]
}
