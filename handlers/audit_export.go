package handlers

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/auditexport"
	"github.com/convdesk/convdesk/views"
	"github.com/labstack/echo/v4"
)

// auditExporter is an audit log that can stream every event matching a
// query (the AuditLog interface has no such method: a remote log might not).
type auditExporter interface {
	ExportEvents(ctx context.Context, q convdesk.AuditQuery, fn func(*convdesk.AuditEvent) error) error
}

// auditRecordExporter streams events already in their exported form,
// without decoding and re-encoding their JSON columns: the fast path.
type auditRecordExporter interface {
	ExportRecords(ctx context.Context, q convdesk.AuditQuery, fn func(*auditexport.Record) error) error
}

// exportFlushRows is how often an export pushes what it wrote to the client,
// so the download moves steadily and nothing piles up in memory.
const exportFlushRows = 4096

// ExportCSV downloads the events matching the filter q as CSV.
func (h *AuditPages) ExportCSV(c echo.Context) error { return h.export(c, auditexport.CSV) }

// ExportNDJSON downloads the events matching the filter q as NDJSON.
func (h *AuditPages) ExportNDJSON(c echo.Context) error { return h.export(c, auditexport.NDJSON) }

// export streams the events matching q in format, newest first, with the
// stable column set of package auditexport, and then records the export
// (filter, format, rows) in the audit trail.
func (h *AuditPages) export(c echo.Context, format auditexport.Format) error {
	ctx := c.Request().Context()
	f, err := convdesk.ParseAuditFilter(c.QueryParam("q"))
	if err != nil {
		return h.s.recordRefusal(c, convdesk.ReasonBadFilter, err, nil)
	}
	records, fast := h.s.audit.(auditRecordExporter)
	events, slow := h.s.audit.(auditExporter)
	if !fast && !slow {
		return h.notImplemented(c, views.T(ctx, "audit.export.unsupported"))
	}
	q := f.String()
	query := f.Query(Location(c))
	res := c.Response()
	name := fmt.Sprintf("convdesk-audit-%s.%s", h.s.now().UTC().Format("20060102T150405Z"), format)
	res.Header().Set(echo.HeaderContentType, format.ContentType())
	res.Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	noStore(c)
	if c.Request().Method == http.MethodHead {
		// The headers only: no export ran, so there is nothing to record.
		res.WriteHeader(http.StatusOK)
		return nil
	}

	start := time.Now()
	w, err := auditexport.NewWriter(res, format)
	if err != nil {
		return err
	}
	flushNow := func() error {
		if w.Rows()%exportFlushRows != 0 {
			return nil
		}
		if err := w.Flush(); err != nil {
			return err
		}
		res.Flush()
		return nil
	}
	if fast {
		err = records.ExportRecords(ctx, query, func(r *auditexport.Record) error {
			if err := w.Write(r); err != nil {
				return err
			}
			return flushNow()
		})
	} else {
		err = events.ExportEvents(ctx, query, func(e *convdesk.AuditEvent) error {
			if err := w.WriteEvent(e); err != nil {
				return err
			}
			return flushNow()
		})
	}
	if err == nil {
		err = w.Flush()
	}

	ev := convdesk.NewAuditEvent(Attribution(c, ""), convdesk.ActionAuditExport, f.User)
	ev.Duration = time.Since(start)
	ev.Detail = map[string]string{"filter": q, "format": string(format), "rows": strconv.FormatInt(w.Rows(), 10)}
	ev.Message = fmt.Sprintf("exported %d events as %s", w.Rows(), format)
	if err != nil {
		ev.Outcome = convdesk.OutcomeFailed
		ev.ResultCode = convdesk.CodeOf(err)
		ev.Message = fmt.Sprintf("the export stopped after %d events: %s", w.Rows(), convdesk.MessageOf(err))
	}
	// Recorded even when the client went away: the rows it got were read.
	aerr := h.s.audit.Append(context.WithoutCancel(ctx), ev)
	if !res.Committed {
		// Nothing was sent: answer with the error page, not an attachment.
		res.Header().Del(echo.HeaderContentDisposition)
		switch {
		case err != nil:
			return err
		case aerr != nil:
			return aerr
		}
		res.WriteHeader(http.StatusOK)
		return nil
	}
	if err != nil || aerr != nil {
		// The status line is gone; the download is cut short and the
		// failure is logged.
		h.s.log.Warn("audit export incomplete", "request_id", RequestID(c), "rows", w.Rows(), "err", err, "audit_err", aerr)
	}
	res.Flush()
	return nil
}

// notImplemented answers with 501 and a message saying what cannot be done.
func (h *AuditPages) notImplemented(c echo.Context, message string) error {
	ctx := c.Request().Context()
	noStore(c)
	vm := views.ErrorPageVM{
		Layout:    h.s.layout(c, views.T(ctx, "error.title", "Status", http.StatusNotImplemented)),
		Status:    http.StatusNotImplemented,
		Message:   message,
		RequestID: RequestID(c),
		HomeURL:   h.s.echo.Reverse("audit.index"),
	}
	return Render(c, http.StatusNotImplemented, views.ErrorPage(vm), views.Toast(views.ToastVM{Level: views.ToastError, Message: message}))
}
