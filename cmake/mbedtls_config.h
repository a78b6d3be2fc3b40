/*
 * Roost's mbedTLS configuration (MBEDTLS_CONFIG_FILE).
 *
 * One header, used identically when building mbedTLS, libwebsockets and
 * Roost: the superbuild installs it into the dependency prefix and passes its
 * path as MBEDTLS_CONFIG_FILE to all three (a mismatch would silently change
 * struct layouts between the library and its users).
 *
 * What Roost needs, and nothing else:
 *  - TLS 1.2 server and client (lws 4.3.5 on mbedTLS negotiates at most 1.2),
 *    ECDHE key exchange with ECDSA or RSA certificates, AEAD record
 *    protection only (AES-GCM, ChaCha20-Poly1305);
 *  - X.509 parsing and writing: the broker makes its own local CA and server
 *    certificate (ECDSA P-256) at first start;
 *  - the functions libwebsockets checks for at configure time (its 12
 *    LWS_HAVE_mbedtls_* probes: md_setup, net_init, rsa_complete,
 *    internal_aes_encrypt, ALPN, SNI, hs_* callbacks, x509_crt_parse_file).
 * Left out: DTLS, TLS 1.3, PSK and plain-RSA/static-ECDH/DHE key exchanges,
 * CBC/CFB/OFB/XTS/CCM modes, DES, ARIA, Camellia, MD5 (except for what lws
 * links), RIPEMD, SHA-3, LMS, PKCS#7/#12, CRL/CSR parsing, the self tests,
 * the session cache and the PSA key store.
 *
 * MBEDTLS_SSL_OUT_CONTENT_LEN is 4 KiB: it sizes each connection's output
 * record buffer. The input side stays at the protocol's 16 KiB because a
 * peer may send full-size records.
 */
#ifndef ROOST_MBEDTLS_CONFIG_H
#define ROOST_MBEDTLS_CONFIG_H

#define ROOST_MBEDTLS_CONFIG 1 /* lets Roost check that this file is in use */

/* Platform */
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
/* Roost gives mbedTLS its own calloc/free (platform/tls_memory.cpp). */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_FS_IO
#define MBEDTLS_NET_C
#define MBEDTLS_ERROR_C
#define MBEDTLS_VERSION_C
#define MBEDTLS_DEBUG_C

/* Randomness */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C
#define MBEDTLS_ECDSA_DETERMINISTIC

/* Symmetric ciphers: AEAD only */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C
#define MBEDTLS_AESCE_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_MODE_CTR /* CTR_DRBG's and GCM's core */

/* Hashes */
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C /* libwebsockets links it (lws_genhash) */
#define MBEDTLS_SHA1_C /* the WebSocket handshake; legacy certificates */
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C

/* Public keys */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_GENPRIME
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_SECP521R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C

/* Encodings */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

/* X.509: read certificates, write our own CA and server certificate */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_CSR_WRITE_C /* libwebsockets' ACME-free build still links it */

/* TLS 1.2 */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Per-connection memory: 4 KiB output records (see above). */
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384

#endif /* ROOST_MBEDTLS_CONFIG_H */
