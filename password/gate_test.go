package password

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		g := NewGate(2)
		hash, err := g.Hash(context.Background(), "correct horse", fast)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := g.Check(context.Background(), "correct horse", hash); !ok || err != nil {
			t.Fatalf("check: %v %v", ok, err)
		}
		if err := g.CheckNone(context.Background(), "x"); err != nil {
			t.Fatal(err)
		}
		if n := len(g.slots); n != 0 {
			t.Fatalf("%d slots still taken", n)
		}
	})
	t.Run("AtMostNAtOnce", func(t *testing.T) {
		g := NewGate(2)
		var holding []func()
		for i := 0; i < 2; i++ {
			release, err := g.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			holding = append(holding, release)
		}
		// Every slot is taken: a check waits, and gives up when its
		// context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := g.Check(ctx, "pw", dummy); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("check with every slot taken: %v", err)
		}
		// A waiting check goes ahead when a slot is freed.
		var wg sync.WaitGroup
		wg.Add(1)
		var err error
		go func() {
			defer wg.Done()
			_, err = g.Hash(context.Background(), "pw", fast)
		}()
		holding[0]()
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		holding[1]()
	})
	t.Run("EndedContextGetsNoSlot", func(t *testing.T) {
		g := NewGate(1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := g.CheckNone(ctx, "pw"); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}
