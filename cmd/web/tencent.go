package main

import (
	"fmt"

	"github.com/convdesk/convdesk"
	"github.com/convdesk/convdesk/changebus"
	"github.com/convdesk/convdesk/db"
	"github.com/convdesk/convdesk/tencentim"
)

// openTencent makes the Tencent Cloud IM backend the configuration asks for.
// It makes no call: /readyz checks the credentials (at most every 30 s).
// The secret key goes to the client only; neither it nor the UserSig is
// ever logged.
func (m *Main) openTencent() (*tencentim.Backend, error) {
	b := m.Config.Backend
	key, err := b.timSecretKey(m.lookupEnv)
	if err != nil {
		return nil, err
	}
	client, err := tencentim.New(tencentim.Config{
		SDKAppID:  b.TIMSDKAppID,
		Admin:     b.TIMAdmin,
		SecretKey: key,
		Region:    b.TIMRegion,
		Endpoint:  b.TIMEndpoint,
		Timeout:   b.TIMTimeout,
		RateShare: b.TIMRateShare,
		Logger:    m.log,
	})
	if err != nil {
		return nil, fmt.Errorf("tencent backend: %w", err)
	}
	if client.Insecure() {
		m.log.Warn("--tim-endpoint is plain http: the admin UserSig crosses the network unencrypted; use it only for a local fake or a TLS-terminating proxy on this host",
			"endpoint", client.Base())
	}
	if b.TIMEndpoint != "" && b.TIMRegion != "" {
		m.log.Info("--tim-endpoint is used; --tim-region was only validated", "endpoint", client.Base(), "region", b.TIMRegion)
	}
	m.log.Info("tencent backend", "sdkappid", b.TIMSDKAppID, "admin", b.TIMAdmin, "base", client.Base(),
		"timeout", b.TIMTimeout, "rate_share", b.TIMRateShare)
	return tencentim.NewBackend(client, tencentim.BackendOptions{Logger: m.log}), nil
}

// startObserver finds changes made outside convdesk on the Tencent backend
// (which pushes none): a GroupObserver keeps each user's groups snapshot in
// the database and follows the group service's edits, and the Poller it
// returns (the bus the board streams use) re-reads the groups of every
// user whose board is open, every 5 s within its share of
// get_contact_group's budget. Close it after the server stops.
func (m *Main) startObserver(tim *tencentim.Backend, groups *convdesk.GroupService, bus *changebus.Bus, database *db.DB) *tencentim.Poller {
	obs := convdesk.NewGroupObserver(groups, tim, database)
	return tencentim.NewPoller(bus, bus, obs, tencentim.PollOptions{Budget: tim.PollBudget, Logger: m.log})
}
