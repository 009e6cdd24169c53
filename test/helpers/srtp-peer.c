/*
 * A test peer around libsrtp2 (an SRTP implementation nobody on this project wrote): one line
 * in, one line out on stdin/stdout.
 *
 *   init ID SUITE in|out KEYSALT_HEX FLAGS [MKI_HEX]   -> ok | err CODE
 *   rtp ID PACKET_HEX                                  -> ok HEX | err CODE   (protect for out, unprotect for in)
 *   rtcp ID PACKET_HEX                                 -> ok HEX | err CODE
 *   update ID KEYSALT_HEX                              -> ok | err CODE   (re-key, ROC kept: srtp_update)
 *
 * FLAGS: bit 0 UNENCRYPTED_SRTP, bit 1 UNENCRYPTED_SRTCP, bit 2 UNAUTHENTICATED_SRTP.
 */
#include <srtp2/srtp.h>
#include <srtp2/crypto_types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS 4096
#define MAX_LINE 8192

static srtp_t sessions[MAX_SESSIONS];
static int outbound[MAX_SESSIONS];
static int has_mki[MAX_SESSIONS];
static srtp_policy_t policies[MAX_SESSIONS];
static unsigned char keys[MAX_SESSIONS][64];

static int unhex(const char *s, unsigned char *out, int max) {
	int n = 0;
	while (s[0] && s[1] && s[0] != '\n' && n < max) {
		unsigned int b;
		if (sscanf(s, "%2x", &b) != 1) return -1;
		out[n++] = (unsigned char) b;
		s += 2;
	}
	return n;
}

static void puthex(const unsigned char *b, int n) {
	for (int i = 0; i < n; i++) printf("%02x", b[i]);
}

static int set_policy(const char *suite, srtp_crypto_policy_t *rtp, srtp_crypto_policy_t *rtcp) {
	if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_80")) { srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtp); srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_32")) { srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(rtp); srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "AES_192_CM_HMAC_SHA1_80")) { srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtp); srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "AES_192_CM_HMAC_SHA1_32")) { srtp_crypto_policy_set_aes_cm_192_hmac_sha1_32(rtp); srtp_crypto_policy_set_aes_cm_192_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "AES_256_CM_HMAC_SHA1_80")) { srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtp); srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "AES_256_CM_HMAC_SHA1_32")) { srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(rtp); srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "AEAD_AES_128_GCM")) { srtp_crypto_policy_set_aes_gcm_128_16_auth(rtp); srtp_crypto_policy_set_aes_gcm_128_16_auth(rtcp); }
	else if (!strcmp(suite, "AEAD_AES_256_GCM")) { srtp_crypto_policy_set_aes_gcm_256_16_auth(rtp); srtp_crypto_policy_set_aes_gcm_256_16_auth(rtcp); }
	else if (!strcmp(suite, "NULL_HMAC_SHA1_80")) { srtp_crypto_policy_set_null_cipher_hmac_sha1_80(rtp); srtp_crypto_policy_set_null_cipher_hmac_sha1_80(rtcp); }
	else if (!strcmp(suite, "NULL_HMAC_SHA1_32")) {
		srtp_crypto_policy_set_null_cipher_hmac_sha1_80(rtp);
		rtp->auth_tag_len = 4;
		srtp_crypto_policy_set_null_cipher_hmac_sha1_80(rtcp);
	}
	else return -1;
	return 0;
}

static void cmd_init(char *args) {
	char suite[64], dir[8], keyhex[256], mkihex[64] = "";
	int id, flags;
	int n = sscanf(args, "%d %63s %7s %255s %d %63s", &id, suite, dir, keyhex, &flags, mkihex);
	if (n < 5 || id < 0 || id >= MAX_SESSIONS) { printf("err parse\n"); return; }
	srtp_policy_t policy;
	memset(&policy, 0, sizeof(policy));
	if (set_policy(suite, &policy.rtp, &policy.rtcp)) { printf("err suite\n"); return; }
	if (flags & 1) policy.rtp.sec_serv &= ~sec_serv_conf;
	if (flags & 2) policy.rtcp.sec_serv &= ~sec_serv_conf;
	if (flags & 4) {
		policy.rtp.sec_serv &= ~sec_serv_auth;
		policy.rtp.auth_type = SRTP_NULL_AUTH;
		policy.rtp.auth_key_len = 0;
		policy.rtp.auth_tag_len = 0;
	}
	static unsigned char mkis[MAX_SESSIONS][16];
	static srtp_master_key_t mk[MAX_SESSIONS];
	static srtp_master_key_t *mkp[MAX_SESSIONS];
	if (unhex(keyhex, keys[id], 64) < 0) { printf("err key\n"); return; }
	policy.ssrc.type = strcmp(dir, "out") ? ssrc_any_inbound : ssrc_any_outbound;
	policy.window_size = 128;
	int mkilen = mkihex[0] ? unhex(mkihex, mkis[id], 16) : 0;
	if (mkilen > 0) {
		mk[id].key = keys[id];
		mk[id].mki_id = mkis[id];
		mk[id].mki_size = mkilen;
		mkp[id] = &mk[id];
		policy.keys = &mkp[id];
		policy.num_master_keys = 1;
	} else policy.key = keys[id];
	if (sessions[id]) { srtp_dealloc(sessions[id]); sessions[id] = NULL; }
	srtp_err_status_t e = srtp_create(&sessions[id], &policy);
	if (e) { printf("err %d\n", e); return; }
	policies[id] = policy;
	outbound[id] = !strcmp(dir, "out");
	has_mki[id] = mkilen > 0;
	printf("ok\n");
}

static void cmd_packet(char *args, int rtcp) {
	int id;
	char hex[MAX_LINE];
	if (sscanf(args, "%d %8191s", &id, hex) != 2 || id < 0 || id >= MAX_SESSIONS || !sessions[id]) { printf("err parse\n"); return; }
	unsigned char buf[MAX_LINE / 2 + 256];
	int len = unhex(hex, buf, MAX_LINE / 2);
	if (len < 0) { printf("err hex\n"); return; }
	srtp_err_status_t e;
	srtp_t s = sessions[id];
	int m = has_mki[id];
	if (outbound[id])
		e = rtcp ? srtp_protect_rtcp_mki(s, buf, &len, m, 0) : srtp_protect_mki(s, buf, &len, m, 0);
	else
		e = rtcp ? srtp_unprotect_rtcp_mki(s, buf, &len, m) : srtp_unprotect_mki(s, buf, &len, m);
	if (e) { printf("err %d\n", e); return; }
	printf("ok ");
	puthex(buf, len);
	printf("\n");
}

static void cmd_update(char *args) {
	int id;
	char keyhex[256];
	if (sscanf(args, "%d %255s", &id, keyhex) != 2 || id < 0 || id >= MAX_SESSIONS || !sessions[id] || has_mki[id]) { printf("err parse\n"); return; }
	if (unhex(keyhex, keys[id], 64) < 0) { printf("err key\n"); return; }
	srtp_err_status_t e = srtp_update(sessions[id], &policies[id]);
	if (e) { printf("err %d\n", e); return; }
	printf("ok\n");
}

int main(void) {
	if (srtp_init()) { printf("err init\n"); return 1; }
	static char line[MAX_LINE + 64];
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "init ", 5)) cmd_init(line + 5);
		else if (!strncmp(line, "rtp ", 4)) cmd_packet(line + 4, 0);
		else if (!strncmp(line, "rtcp ", 5)) cmd_packet(line + 5, 1);
		else if (!strncmp(line, "update ", 7)) cmd_update(line + 7);
		else printf("err command\n");
	}
	return 0;
}
