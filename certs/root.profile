# certs/root.profile - profile of a certification body's root CA certificate
# (read by `jcstar ca init`). Format: `key = value`, # comments.
#   subject_cn      the root's common name; ${name} is the body's name
#                   (--name), which is also the subject's O attribute
#   validity_days   lifetime of the certificate
#   ext.NAME        an X.509 v3 extension, value in OpenSSL's x509v3_config
#                   syntax; ${label_signing_eku} expands to the project's
#                   label-signing key purpose OID (docs/FORMAT.md)
# Placeholders: ${name}, ${n} (signer number, 0001...), ${label_signing_eku}.

subject_cn = ${name} Root CA
# 20 years: the root outlives many generations of label signers.
validity_days = 7305
ext.basicConstraints = critical,CA:TRUE,pathlen:0
ext.keyUsage = critical,keyCertSign,cRLSign
ext.subjectKeyIdentifier = hash
