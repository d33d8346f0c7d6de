package console

import (
	"github.com/valyala/fasthttp"

	"github.com/linkd/linkd/httpd/ops"
)

// webhooksPage is the model of the webhooks page: the endpoints, the
// create form's event choices, and (once) a new endpoint's secret.
type webhooksPage struct {
	Hooks                []ops.Webhook
	Events               []scopeChoice
	NewSecret, NewHookID string
}

// webhookPage is the model of one endpoint's page: its delivery log.
type webhookPage struct {
	Hook    ops.Webhook
	Pending []ops.Delivery
	Log     []ops.Delivery
}

func (c *Console) webhooksPage(ctx *fasthttp.RequestCtx, rq request) {
	c.renderWebhooks(ctx, rq, view{}, webhooksPage{})
}

func (c *Console) renderWebhooks(ctx *fasthttp.RequestCtx, rq request, v view, data webhooksPage) {
	hooks, err := c.ops.Webhooks(rq.se.p)
	if err != nil {
		c.log.Error("listing webhooks", "err", err)
	}
	data.Hooks = hooks
	for _, e := range ops.EventNames() {
		data.Events = append(data.Events, scopeChoice{Name: e, Checked: e != "clicks"})
	}
	v.Data = &data
	c.renderForm(ctx, rq.se, "webhooks", "Webhooks", v)
}

func (c *Console) createWebhook(ctx *fasthttp.RequestCtx, rq request) {
	form := formValues(ctx, "url")
	var events []string
	for _, b := range ctx.PostArgs().PeekMulti("events") {
		events = append(events, string(b))
	}
	url := form["url"]
	w, err := c.ops.CreateWebhook(rq.se.p, ops.WebhookInput{URL: &url, Events: &events})
	if err != nil {
		v := view{Form: form}
		c.show(&v, err)
		c.renderWebhooks(ctx, rq, v, webhooksPage{})
		return
	}
	// The secret is shown on this response only.
	c.renderWebhooks(ctx, rq, view{}, webhooksPage{NewSecret: w.Secret, NewHookID: w.ID})
}

func (c *Console) webhookPage(ctx *fasthttp.RequestCtx, rq request) {
	w, err := c.ops.Webhook(rq.se.p, rq.ID)
	var pending, done []ops.Delivery
	if err == nil {
		pending, done, err = c.ops.Deliveries(rq.se.p, rq.ID)
	}
	if err != nil {
		c.failPage(ctx, rq.se, "No such webhook", err)
		return
	}
	c.renderForm(ctx, rq.se, "webhook", "Webhook deliveries", view{Data: &webhookPage{Hook: w, Pending: pending, Log: done}})
}

// webhookAction runs one change of an endpoint and returns to its page.
func (c *Console) webhookAction(do func(p ops.Principal, rq request) error) handler {
	return func(ctx *fasthttp.RequestCtx, rq request) {
		if err := do(rq.se.p, rq); err != nil {
			c.failPage(ctx, rq.se, "Not done", err)
			return
		}
		seeOther(ctx, "/app/webhooks/"+rq.ID+"?done=saved")
	}
}

func (c *Console) resendDelivery(p ops.Principal, rq request) error {
	return c.ops.ResendDelivery(p, rq.ID, rq.Sub)
}

func (c *Console) toggleWebhook(ctx *fasthttp.RequestCtx, rq request) {
	on := string(ctx.PostArgs().Peek("enabled")) == "true"
	c.webhookAction(func(p ops.Principal, rq request) error {
		_, err := c.ops.UpdateWebhook(p, rq.ID, ops.WebhookInput{Enabled: &on})
		return err
	})(ctx, rq)
}

func (c *Console) deleteWebhook(ctx *fasthttp.RequestCtx, rq request) {
	if err := c.ops.DeleteWebhook(rq.se.p, rq.ID); err != nil {
		c.failPage(ctx, rq.se, "Not deleted", err)
		return
	}
	seeOther(ctx, "/app/webhooks?done=saved")
}
