package httpd

import (
	"bufio"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// backup serves GET /api/v1/backup (admins): the whole state as a backup
// file (store.Snapshot.WriteBackup: header, snapshot stream, SHA-256). It
// first does a linearizable read index, so the backup holds every write
// acknowledged before the request; the Pebble snapshot it streams is
// consistent while writes continue.
func (s *Server) backup(ctx *fasthttp.RequestCtx) {
	rctx, cancel := s.writeCtx()
	defer cancel()
	if err := s.cfg.Cluster.ReadIndex(rctx); err != nil {
		writeProblem(ctx, probUnavailable, "A consistent backup needs the leader: "+err.Error()+".")
		return
	}
	sn := s.cfg.Store.Snapshot()
	node := s.cfg.Cluster.Status().NodeID
	conn := ctx.Conn()
	ctx.SetContentType("application/octet-stream")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="linkd-`+node+`.backup"`)
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer sn.Close()
		if _, err := sn.WriteBackup(deadlineWriter{w, conn}, time.Now().UnixMilli(), node); err == nil {
			w.Flush()
		} else {
			s.log.Warn("backup stream failed", "err", err) // the client's checksum check fails
		}
	})
}

// deadlineWriter extends the connection's write deadline before each write,
// so a large backup is bounded per write, not as a whole.
type deadlineWriter struct {
	w    *bufio.Writer
	conn net.Conn
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	d.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	return d.w.Write(p)
}
