/* pem.h: for the auth tests, a key made at test time written as PEM. */
#ifndef MSGCMD_TEST_PEM_H
#define MSGCMD_TEST_PEM_H

#include <string.h>

#include <check.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

/* Returns key as a malloc'd PEM: its private key when private, else its
 * public key (SubjectPublicKeyInfo). */
static inline char *
pem_of(EVP_PKEY *key, int private)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	ck_assert(private ? PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL) : PEM_write_bio_PUBKEY(bio, key));
	n = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)n);
	BIO_free(bio);
	return out;
}

#endif
