/* cordon — who an ONVIF request comes from: WS-Security UsernameToken
 * (PasswordDigest) or HTTP digest, checked against the recorders of the
 * configuration. Private to proxy/onvif*.c. */
#pragma once

#include <libsoup/soup.h>

#include "config/config.h"
#include "proxy/onvif-soap.h"

G_BEGIN_DECLS

#define CORDON_ONVIF_WINDOW_S 300   /* a token's Created must be this close to our clock */
#define CORDON_ONVIF_MAX_NONCES 8192 /* remembered token and digest nonces, each kind */

typedef struct _CordonOnvifAuth CordonOnvifAuth;

/* Recorders come from CONFIG (kept by pointer; see _set_config). */
CordonOnvifAuth *cordon_onvif_auth_new (const CordonConfig *config);
void cordon_onvif_auth_set_config (CordonOnvifAuth *auth, const CordonConfig *config);
void cordon_onvif_auth_free (CordonOnvifAuth *auth);

/* The recorder whose PasswordDigest UsernameToken REQUEST carries, when its
 * Created lies within the window around NOW (g_get_real_time() units) and its
 * nonce was not used before (it is then remembered); else NULL and WHY. */
const CordonRecorder *cordon_onvif_auth_check_token (CordonOnvifAuth *auth, const CordonSoapRequest *request,
                                                     gint64 now, const char **why);

/* The recorder whose HTTP digest MSG carries, for a nonce issued by
 * _challenge, still fresh, with an nc above any seen; else NULL and WHY. */
const CordonRecorder *cordon_onvif_auth_check_digest (CordonOnvifAuth *auth, SoupServerMessage *msg,
                                                      const char **why);

/* Answers MSG 401 with a digest challenge whose nonce is remembered. */
void cordon_onvif_auth_challenge (CordonOnvifAuth *auth, SoupServerMessage *msg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CordonOnvifAuth, cordon_onvif_auth_free)

G_END_DECLS
