// node:crypto cannot create X.509 certificates, so node-forge is used for that one job (and only
// for it). WeChat Pay identifies the merchant key and the platform key by certificate serial
// (docs/wechat-pay.md#verification-keys); the certificates are self-signed because only their serial and public
// key matter to the protocol.
import forge from 'node-forge';

export interface CertificateSpec {
  privateKeyPem: string;
  publicKeyPem: string;
  serialHex: string;
  commonName: string;
  organization: string;
  validYears: number;
}

export function selfSignedCertificate(spec: CertificateSpec): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(spec.publicKeyPem);
  cert.serialNumber = spec.serialHex.toLowerCase();
  const notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = new Date(notBefore.getTime() + spec.validYears * 365 * 24 * 3600_000);
  const attributes = [
    { shortName: 'C', value: 'CN' },
    { shortName: 'O', value: spec.organization },
    { shortName: 'CN', value: spec.commonName },
  ];
  cert.setSubject(attributes);
  cert.setIssuer(attributes);
  cert.sign(forge.pki.privateKeyFromPem(spec.privateKeyPem), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
