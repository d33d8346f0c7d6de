package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/linkd/linkd/fsm"
	"github.com/linkd/linkd/node"
)

// Internode RPC is HTTP/1.1 on the shared raft port, after the mux's mutual
// TLS handshake and its protocol byte: only members reach these handlers.
const (
	rpcTimeout      = 5 * time.Second
	maxRPCBody      = 1 << 20
	statusMisdirect = http.StatusMisdirectedRequest // "not the leader"
	// statusUnknownOutcome: the command may or may not have been committed.
	statusUnknownOutcome = http.StatusGatewayTimeout
)

// probeReply tells a joining node what the answering node knows.
type probeReply struct {
	ID         string `json:"id"`
	RaftAddr   string `json:"raftAddr"`
	HasState   bool   `json:"hasState"`
	LeaderID   string `json:"leaderId"`
	LeaderAddr string `json:"leaderAddr"`
}

type joinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	Voter    bool   `json:"voter"`
}

type removeRequest struct {
	ID string `json:"id"`
}

type indexReply struct {
	Index uint64 `json:"index"`
}

// nodeReply is one node's own view, for cluster status.
type nodeReply struct {
	State        string `json:"state"`
	AppliedIndex uint64 `json:"appliedIndex"`
	CommitIndex  uint64 `json:"commitIndex"`
	// Understands is the newest version of each command type this node's
	// binary applies (the version gate, versions.go).
	Understands map[fsm.Type]uint8 `json:"understands,omitempty"`
}

func (c *Cluster) rpcHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/probe", func(w http.ResponseWriter, r *http.Request) {
		st := c.n.Status()
		writeRPC(w, probeReply{ID: c.n.ID(), RaftAddr: c.raftAddr, HasState: c.n.HasState(), LeaderID: st.LeaderID, LeaderAddr: st.LeaderAddr})
	})
	mux.HandleFunc("GET /v1/node", func(w http.ResponseWriter, r *http.Request) {
		st := c.n.Status()
		writeRPC(w, nodeReply{State: st.State, AppliedIndex: st.AppliedIndex, CommitIndex: st.CommitIndex, Understands: fsm.Versions()})
	})
	mux.HandleFunc("POST /v1/join", func(w http.ResponseWriter, r *http.Request) {
		var req joinRequest
		if readRPC(w, r, &req) {
			rpcResult(w, nil, c.n.AddPeer(node.Peer{ID: req.ID, Addr: req.RaftAddr, Voter: req.Voter}))
		}
	})
	mux.HandleFunc("POST /v1/remove", func(w http.ResponseWriter, r *http.Request) {
		var req removeRequest
		if readRPC(w, r, &req) {
			rpcResult(w, nil, c.removeAsLeader(r.Context(), req.ID))
		}
	})
	mux.HandleFunc("GET /v1/readindex", func(w http.ResponseWriter, r *http.Request) {
		idx, err := c.n.ReadIndex()
		rpcResult(w, indexReply{idx}, err)
	})
	mux.HandleFunc("POST /v1/apply", c.serveApply)
	return mux
}

// serveApply commits a forwarded command on the leader.
func (c *Cluster) serveApply(w http.ResponseWriter, r *http.Request) {
	cmd, err := io.ReadAll(io.LimitReader(r.Body, maxRPCBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := c.n.ProposeEncoded(r.Context(), cmd)
	if res == nil {
		rpcResult(w, nil, err)
		return
	}
	b, err := fsm.EncodeResult(res)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/msgpack")
	w.Write(b)
}

// rpcResult answers v, or the error with a status the caller can act on:
// 421 for "not the leader" (safe to retry elsewhere), 503 for "certainly
// not applied", 504 for "outcome unknown", 500 for anything else (which a
// forwarded write also treats as unknown).
func rpcResult(w http.ResponseWriter, v any, err error) {
	switch {
	case err == nil:
		writeRPC(w, v)
	case errors.Is(err, node.ErrNotLeader):
		http.Error(w, err.Error(), statusMisdirect)
	case errors.Is(err, node.ErrUnknownPeer):
		http.Error(w, err.Error(), http.StatusNotFound)
	case errors.Is(err, node.ErrUnknownOutcome):
		http.Error(w, err.Error(), statusUnknownOutcome)
	case errors.Is(err, node.ErrNotApplied):
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	default:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func writeRPC(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func readRPC(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, maxRPCBody)).Decode(v); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// rpcClient calls other nodes' RPC over their shared raft port, through
// mux's authenticated dialer.
type rpcClient struct{ hc *http.Client }

// errNoPeerPort: a node without a raft port (mux nil) has no peers to call.
var errNoPeerPort = errors.New("cluster: this node has no raft port")

func newRPCClient(mux *Mux) *rpcClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			if mux == nil {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errNoPeerPort}
			}
			return mux.dial(ctx, addr, muxRPC)
		},
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     time.Minute,
	}
	return &rpcClient{hc: &http.Client{Transport: tr, Timeout: rpcTimeout}}
}

// errNotLeaderRemote means the called node is not the leader.
var errNotLeaderRemote = errors.New("cluster: called node is not the leader")

// errNotSent means the request never reached the remote node, so a
// non-idempotent call may safely be retried.
var errNotSent = errors.New("cluster: request not sent")

// call sends one RPC. in is JSON-encoded unless it is []byte; out, when
// non-nil, receives the JSON reply, or the raw body if it is *[]byte.
func (rc *rpcClient) call(ctx context.Context, addr, method, path string, in, out any) error {
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, body)
	if err != nil {
		return err
	}
	resp, err := rc.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("%w: %v", errNotSent, err)
		}
		// Sent, but no answer: the remote may have acted on it.
		return fmt.Errorf("%w: %v", node.ErrUnknownOutcome, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRPCBody))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == statusMisdirect:
		return errNotLeaderRemote
	case resp.StatusCode == http.StatusNotFound:
		return node.ErrUnknownPeer
	case resp.StatusCode == statusUnknownOutcome:
		return fmt.Errorf("%w: %s", node.ErrUnknownOutcome, bytes.TrimSpace(b))
	case resp.StatusCode == http.StatusServiceUnavailable:
		return fmt.Errorf("%w: %s", node.ErrNotApplied, bytes.TrimSpace(b))
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("cluster: %s %s on %s: %s: %s", method, path, addr, resp.Status, bytes.TrimSpace(b))
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
		return nil
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
