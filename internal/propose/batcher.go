package propose

import (
	"sync"
	"time"

	"github.com/linkd/linkd/fsm"
)

// Batcher is group commit's collecting half, shared by the leader (one raft
// entry per group) and by followers forwarding to it (one RPC per group):
// one goroutine takes submitted commands and hands them to Commit in
// groups. A group leaves as soon as there is one and fewer than InFlight
// groups are being committed; while InFlight are, new submissions queue
// and leave together. So an idle caller waits for nothing and a loaded one
// shares the per-commit cost with everyone queued behind the same slot.
type Batcher struct {
	// Commit commits one group (same Key, no group inside a group of
	// more) and answers every item, once. It runs on its own goroutine.
	Commit func(group []*Item)
	// InFlight, MaxItems and MaxBytes bound concurrency and one group.
	InFlight, MaxItems, MaxBytes int
	// Grouping, when set, is asked once per group: false sends the group's
	// first item alone (a peer could not apply a group yet).
	Grouping func() bool
	// Stop ends the batcher: waiting submitters get Stopped.
	Stop <-chan struct{}
	// Stopped is the answer for a submission the batcher never took
	// (certainly not committed), AfterStop for one it may have sent, and
	// Expired for one whose deadline passed while it queued (never sent).
	Stopped, AfterStop, Expired error

	once sync.Once
	in   chan *Item
	wg   sync.WaitGroup
}

// Item is one submitted command.
type Item struct {
	Cmd      []byte
	Deadline time.Time
	Key      string // only items with the same key share a group (a leader's address)
	done     chan answer
}

type answer struct {
	r   *fsm.Result
	err error
}

// Answer gives the item's caller its result.
func (it *Item) Answer(r *fsm.Result, err error) { it.done <- answer{r, err} }

// AnswerAll gives every item the same answer.
func AnswerAll(group []*Item, r *fsm.Result, err error) {
	for _, it := range group {
		it.Answer(r, err)
	}
}

// IsGroup reports whether an encoded command is already a group: it
// travels alone, never nested.
func IsGroup(cmd []byte) bool { return len(cmd) > 0 && fsm.Type(cmd[0]) == fsm.TypeGroup }

// Encode returns what a group commits: the lone command itself, or an
// fsm.Group of them.
func Encode(group []*Item) ([]byte, error) {
	if len(group) == 1 {
		return group[0].Cmd, nil
	}
	g := &fsm.Group{Cmds: make([][]byte, len(group))}
	for i, it := range group {
		g.Cmds[i] = it.Cmd
	}
	return fsm.Encode(g)
}

// Distribute answers each item of a group from the result of committing
// Encode(group): the result itself for a lone command, else its items; a
// result without per-item results (the fsm refused the whole entry) goes
// to everyone.
func Distribute(group []*Item, r *fsm.Result) {
	switch {
	case len(group) == 1:
		group[0].Answer(r, r.Err)
	case len(r.Items) != len(group):
		AnswerAll(group, &fsm.Result{Err: r.Err}, r.Err)
	default:
		for i, it := range group {
			it.Answer(r.Items[i], r.Items[i].Err)
		}
	}
}

// Submit queues cmd and waits for its own answer.
func (b *Batcher) Submit(cmd []byte, deadline time.Time, key string) (*fsm.Result, error) {
	b.once.Do(b.start)
	it := &Item{Cmd: cmd, Deadline: deadline, Key: key, done: make(chan answer, 1)}
	select {
	case b.in <- it:
	case <-b.Stop:
		return nil, b.Stopped
	}
	select {
	case a := <-it.done:
		return a.r, a.err
	case <-b.Stop:
		return nil, b.AfterStop
	}
}

// Wait waits, after Stop, for the batcher and the commits it started.
func (b *Batcher) Wait() {
	b.once.Do(func() {}) // never started: nothing to wait for
	b.wg.Wait()
}

func (b *Batcher) start() {
	b.in = make(chan *Item, 4*b.MaxItems)
	b.wg.Add(1)
	go b.run()
}

func (b *Batcher) run() {
	defer b.wg.Done()
	slots := make(chan struct{}, b.InFlight)
	var carry *Item // the item that did not fit the last group
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-b.in:
			case <-b.Stop:
				return
			}
		}
		select {
		case slots <- struct{}{}:
		case <-b.Stop:
			first.Answer(nil, b.Stopped)
			return
		}
		group, size := []*Item{first}, len(first.Cmd)
		grouping := b.Grouping == nil || b.Grouping()
	fill:
		for grouping && len(group) < b.MaxItems && !IsGroup(first.Cmd) {
			select {
			case it := <-b.in:
				if size+len(it.Cmd) > b.MaxBytes || IsGroup(it.Cmd) || it.Key != first.Key {
					carry = it
					break fill
				}
				group, size = append(group, it), size+len(it.Cmd)
			default:
				break fill
			}
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			if group := b.live(group); len(group) > 0 {
				b.Commit(group)
			}
			<-slots
		}()
	}
}

// live answers the items whose caller has given up while they queued
// (certainly not committed) and returns the others.
func (b *Batcher) live(group []*Item) []*Item {
	now := time.Now()
	out := group[:0]
	for _, it := range group {
		if !it.Deadline.After(now) {
			it.Answer(nil, b.Expired)
			continue
		}
		out = append(out, it)
	}
	return out
}

// Earliest is the earliest deadline in a group.
func Earliest(group []*Item) time.Time {
	d := group[0].Deadline
	for _, it := range group[1:] {
		if it.Deadline.Before(d) {
			d = it.Deadline
		}
	}
	return d
}
