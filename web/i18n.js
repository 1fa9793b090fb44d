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

// Level texts ("JC-STAR ★2", "PSTI compliant", "CRA important I") come from
// the scheme profiles (schemes.json, verifier.js levelText()), in both
// languages: they are the schemes' own names.

const IMPORTANCE_JA = { low: '低', medium: '中', high: '高' };
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

const S = {
  en: {
    title: 'JC-STAR label check',
    switchTo: '日本語',
    checking: 'Checking the label…',
    noLabel: 'No label in this address',
    noLabelDo: 'Scan the QR code on a product label with your camera.',
    genuine: (level) => `Genuine ${level} label`,
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
    need: 'What do you need?',
    needNothing: 'Nothing: just check the label',
    needPolicy: 'Procurement policy',
    orHigher: (level) => `${level} or higher`,
    or: ' or ',
    importance: (name, reqs) => `${cap(name)} importance system (${reqs})`,
    metDirect: (req) => `Meets the requirement: ${req}`,
    metDirectDo: (have) => `Directly: the label itself is ${have}.`,
    metAccepted: (req) => `Meets the requirement through recognition: ${req}`,
    metAcceptedDo: (have, basis, where) => `A current ${have} label is accepted for it: “${basis}” (${where}).`,
    notMet: (req) => `Does not meet the requirement: ${req}`,
    notMetDo: (have) => `The label is ${have}, and that does not count for this requirement.`,
    policyFrom: (where) => `Requirement from the procurement policy (${where}).`,
    noSchemes: 'Cannot check the requirement here',
    noSchemesDo: 'This page has no scheme data (schemes.json), so it makes no requirement decisions. The label check above is not affected.',
    badRequirement: 'Unknown requirement in the address',
  },
  ja: {
    title: 'JC-STAR ラベル確認',
    switchTo: 'English',
    checking: 'ラベルを確認しています…',
    noLabel: 'このアドレスにはラベルがありません',
    noLabelDo: '製品ラベルの QR コードをカメラで読み取ってください。',
    genuine: (level) => `本物の ${level} ラベルです`,
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
    need: '必要な条件',
    needNothing: '指定なし（ラベルの確認のみ）',
    needPolicy: '調達方針',
    orHigher: (level) => `${level} 以上`,
    or: ' または ',
    importance: (name, reqs) => `重要度「${IMPORTANCE_JA[name] || name}」のシステム（${reqs}）`,
    metDirect: (req) => `条件を満たしています: ${req}`,
    metDirectDo: (have) => `ラベルそのものが ${have} です。`,
    metAccepted: (req) => `他制度のラベルの承認により条件を満たしています: ${req}`,
    metAcceptedDo: (have, basis, where) => `有効な ${have} ラベルは、この条件を満たすものと認められています:「${basis}」（${where}）`,
    notMet: (req) => `条件を満たしていません: ${req}`,
    notMetDo: (have) => `このラベルは ${have} で、この条件には当たりません。`,
    policyFrom: (where) => `調達方針による条件です（${where}）。`,
    noSchemes: 'ここでは条件を確認できません',
    noSchemesDo: 'このページには制度のデータ（schemes.json）がないため、条件の判定はしません。上のラベル確認には影響しません。',
    badRequirement: 'アドレスの条件が正しくありません',
  },
};

/** The string for key in lang (a function for parameterised strings). */
export function t(lang, key, ...args) {
  const v = (S[lang] || S.en)[key] ?? S.en[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
}
