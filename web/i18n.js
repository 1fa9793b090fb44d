// i18n.js - the page's words, Japanese and English. No DOM.

export const LANGS = ['ja', 'en'];

/** 'ja' when the browser prefers Japanese, else 'en'. */
export function pickLang(navLangs) {
  for (const l of navLangs || []) {
    const p = String(l).toLowerCase().slice(0, 2);
    if (p === 'ja') return 'ja';
    if (p === 'en') return 'en';
  }
  return 'en';
}

function levelText(lang, scheme, level) {
  const stars = '★'.repeat(level);
  switch (scheme) {
    case 'jcstar': return `JC-STAR ★${level}`;
    case 'cls': return lang === 'ja' ? `CLS レベル${level}` : `CLS level ${level}`;
    case 'psti': return 'PSTI';
    case 'cyber-trust-mark': return 'Cyber Trust Mark';
    case 'cra': return lang === 'ja' ? `CRA クラス${level}` : `CRA class ${level}`;
    default: return stars;
  }
}

const S = {
  en: {
    title: 'JC-STAR label check',
    switchTo: '日本語',
    checking: 'Checking the label…',
    noLabel: 'No label in this address',
    noLabelDo: 'Scan the QR code on a product label with your camera.',
    genuine: (l) => `Genuine ${levelText('en', l.scheme, l.level)} label`,
    genuineDo: 'This label was issued by the certification body and is current. Check that the product in your hand matches the details below.',
    'not-genuine': 'Not a genuine label',
    'not-genuineDo': 'Do not rely on this label. Tell the shop or the certification body where you found it.',
    expired: 'Expired',
    expiredDo: 'The label is no longer valid. Ask the vendor whether the product has a current label.',
    'not-yet-valid': 'Not yet valid',
    'not-yet-validDo': 'The label is not valid yet. Check your phone\'s date, or ask the vendor.',
    revoked: 'Revoked',
    revokedDo: 'The certification body has withdrawn this label. Do not rely on it; ask the vendor.',
    'unknown-issuer': 'Unknown issuer',
    'unknown-issuerDo': 'This label was not issued by a certification body this page knows. Do not rely on it.',
    damaged: 'Damaged code',
    damagedDo: 'The code could not be read completely. Scan it again, closer and in good light.',
    unsupported: 'Cannot check here',
    unsupportedDo: 'This browser cannot check this kind of signature. Try an up-to-date browser.',
    error: 'Cannot check the label now',
    errorDo: 'The page could not load its trust data. Connect to the internet once and try again.',
    vendor: 'Vendor', product: 'Product', model: 'Model', regId: 'Registration ID',
    unitSerial: 'Unit serial', validUntil: 'Valid until', supportUntil: 'Support until',
    assessment: 'Assessment', selfDeclared: 'Self-declared by the vendor', thirdParty: (lab) => `Third-party evaluation: ${lab}`,
    notStated: 'not stated',
    details: 'Technical details',
    scan: 'Scan another label',
    stopScan: 'Stop camera',
    scanHint: 'Point the camera at the label\'s QR code.',
    noCamera: 'This browser cannot scan codes here. Use your phone\'s camera app to open the label\'s QR code.',
    notOurCode: 'That QR code is not a JC-STAR label.',
    trustAge: (date, days) => `Trust data from ${date} (${days === 0 ? 'today' : days === 1 ? '1 day old' : `${days} days old`}).`,
    trustOld: 'It is over 30 days old: connect to the internet to update it.',
    offline: 'Works offline after the first visit.',
    issuer: 'Certification body',
  },
  ja: {
    title: 'JC-STAR ラベル確認',
    switchTo: 'English',
    checking: 'ラベルを確認しています…',
    noLabel: 'このアドレスにはラベルがありません',
    noLabelDo: '製品ラベルの QR コードをカメラで読み取ってください。',
    genuine: (l) => `本物の ${levelText('ja', l.scheme, l.level)} ラベルです`,
    genuineDo: '認証機関が発行した有効なラベルです。お手元の製品が下の内容と一致するか確認してください。',
    'not-genuine': '本物のラベルではありません',
    'not-genuineDo': 'このラベルを信用しないでください。見つけた店舗または認証機関にお知らせください。',
    expired: '有効期限切れ',
    expiredDo: 'このラベルは有効期限が切れています。有効なラベルがあるか販売元に確認してください。',
    'not-yet-valid': 'まだ有効ではありません',
    'not-yet-validDo': 'このラベルはまだ有効期間前です。端末の日付を確認するか、販売元に問い合わせてください。',
    revoked: '失効',
    revokedDo: '認証機関がこのラベルを取り消しました。信用せず、販売元に問い合わせてください。',
    'unknown-issuer': '発行元が不明です',
    'unknown-issuerDo': 'このページが知っている認証機関が発行したラベルではありません。信用しないでください。',
    damaged: 'コードが読み取れません',
    damagedDo: 'コードを完全に読み取れませんでした。明るい場所で近づけて、もう一度読み取ってください。',
    unsupported: 'ここでは確認できません',
    unsupportedDo: 'このブラウザはこの種類の署名を確認できません。最新のブラウザでお試しください。',
    error: '現在ラベルを確認できません',
    errorDo: '信頼データを読み込めませんでした。一度インターネットに接続してから再度お試しください。',
    vendor: '製造・販売元', product: '製品名', model: '型番', regId: '登録番号',
    unitSerial: '製造番号', validUntil: '有効期限', supportUntil: 'サポート期限',
    assessment: '評価', selfDeclared: 'ベンダーによる自己適合宣言', thirdParty: (lab) => `第三者評価: ${lab}`,
    notStated: '記載なし',
    details: '技術的な詳細',
    scan: '別のラベルを読み取る',
    stopScan: 'カメラを止める',
    scanHint: 'ラベルの QR コードにカメラを向けてください。',
    noCamera: 'このブラウザではここで読み取れません。スマートフォンのカメラアプリでラベルの QR コードを開いてください。',
    notOurCode: 'その QR コードは JC-STAR ラベルではありません。',
    trustAge: (date, days) => `信頼データ: ${date}（${days === 0 ? '本日' : `${days}日前`}）`,
    trustOld: '30日以上前のデータです。インターネットに接続して更新してください。',
    offline: '一度開くとオフラインでも使えます。',
    issuer: '認証機関',
  },
};

/** The string for key in lang (a function for parameterised strings). */
export function t(lang, key, ...args) {
  const v = (S[lang] || S.en)[key] ?? S.en[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
}
