# certs/signer.profile - profile of a label-signing certificate (read by
# `jcstar ca init` and `jcstar ca rotate`). Same format as root.profile.
# The signer is an end entity: it signs labels and the label CRLs that
# revoke them (hence cRLSign, RFC 5280 4.2.1.3; docs/FORMAT.md 5.3), never
# certificates. Its extended key usage is the project's own
# label-signing purpose and nothing else, so that a general-purpose
# certificate cannot sign labels and this one cannot serve TLS.

subject_cn = ${name} Label Signer ${n}
# 5 years: longer than the 2-year JC-STAR label validity, so a label issued
# late in a signer's life still gets its full validity after a rotation.
validity_days = 1827
ext.basicConstraints = critical,CA:FALSE
ext.keyUsage = critical,digitalSignature,cRLSign
ext.extendedKeyUsage = critical,${label_signing_eku}
ext.subjectKeyIdentifier = hash
ext.authorityKeyIdentifier = keyid:always
