/**
 * High-signal credential formats, in the spirit of the Gitleaks rule set (prefixes and lengths as the
 * issuers document them). Definitions only: `secrets.ts` compiles them into one scanner. Rules are
 * ordered most specific first, because at one position the first rule that matches wins (an
 * Anthropic key also looks like a generic `sk-` key).
 *
 * Pattern conventions: no capturing groups (the scanner adds one per rule), and a left boundary is
 * written as a lookbehind so a token glued to other word characters is not a match.
 */
import { CREDENTIAL_ASSIGNMENT_RULE } from './credential-assignment.js';
import type { SecretRule } from './secret-rule.js';

export type { SecretRule } from './secret-rule.js';

const B = '(?<![A-Za-z0-9_-])';
const DIGITS = [...'0123456789'];
const HEX_DIGITS = [...'0123456789abcdef'];
const E = '(?![A-Za-z0-9_-])';

/** The rules, most specific first. */
export const SECRET_RULES: readonly SecretRule[] = [
  { kind: 'private-key', anchors: ['-----BEGIN'], label: 'a private key block', pattern: '-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----(?:[\\s\\S]*?-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----|[\\s\\S]*$)' },
  { kind: 'aws-access-key-id', anchors: ['AKIA', 'ASIA', 'ABIA', 'ACCA'], label: 'an AWS access key ID', pattern: `${B}(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}${E}` },
  { kind: 'aws-secret-access-key', anchors: ['aws'], label: 'an AWS secret access key', pattern: 'aws_?(?:secret_?access_?key|secret_?key)["\']?\\s*[:=]\\s*["\']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])', caseInsensitive: true },
  { kind: 'gcp-api-key', anchors: ['AIza'], label: 'a Google Cloud API key', pattern: `${B}AIza[0-9A-Za-z_-]{35}${E}` },
  { kind: 'gcp-service-account-key', anchors: ['"private_key_id"'], label: 'a Google Cloud service account key', pattern: '"private_key_id"\\s*:\\s*"[a-f0-9]{40}"' },
  { kind: 'google-oauth-client-secret', anchors: ['GOCSPX-'], label: 'a Google OAuth client secret', pattern: `${B}GOCSPX-[A-Za-z0-9_-]{28}${E}` },
  { kind: 'firebase-cloud-messaging-key', anchors: [':APA91b'], lead: 11, label: 'a Firebase Cloud Messaging server key', pattern: `${B}AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,}` },
  { kind: 'azure-storage-account-key', anchors: ['AccountKey='], label: 'an Azure storage account key', pattern: 'AccountKey=[A-Za-z0-9+/]{86}==' },
  { kind: 'azure-sas-token', anchors: ['sv='], label: 'an Azure shared access signature', pattern: 'sv=\\d{4}-\\d{2}-\\d{2}&[^\\s"\'<>]*?sig=[A-Za-z0-9%+/]{30,}' },
  { kind: 'azure-ad-client-secret', anchors: DIGITS.map((d) => `${d}Q~`), label: 'an Azure AD client secret', pattern: '(?<=[A-Za-z0-9_~.]{3})\\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])', extendLeft: /[A-Za-z0-9_~.]/ },
  { kind: 'github-fine-grained-pat', anchors: ['github_pat_'], label: 'a GitHub fine-grained personal access token', pattern: `${B}github_pat_[A-Za-z0-9_]{82}${E}` },
  { kind: 'github-pat', anchors: ['ghp_'], label: 'a GitHub personal access token', pattern: `${B}ghp_[A-Za-z0-9]{36}${E}` },
  { kind: 'github-oauth-token', anchors: ['gho_'], label: 'a GitHub OAuth token', pattern: `${B}gho_[A-Za-z0-9]{36}${E}` },
  { kind: 'github-app-token', anchors: ['ghu_', 'ghs_'], label: 'a GitHub App token', pattern: `${B}(?:ghu|ghs)_[A-Za-z0-9]{36}${E}` },
  { kind: 'github-refresh-token', anchors: ['ghr_'], label: 'a GitHub refresh token', pattern: `${B}ghr_[A-Za-z0-9]{36,76}${E}` },
  { kind: 'gitlab-pat', anchors: ['glpat-'], label: 'a GitLab personal access token', pattern: `${B}glpat-[A-Za-z0-9_-]{20,}` },
  { kind: 'gitlab-pipeline-trigger-token', anchors: ['glptt-'], label: 'a GitLab pipeline trigger token', pattern: `${B}glptt-[a-f0-9]{40}${E}` },
  { kind: 'gitlab-runner-token', anchors: ['glrt-'], label: 'a GitLab runner token', pattern: `${B}glrt-[A-Za-z0-9_-]{20,}` },
  { kind: 'gitlab-deploy-token', anchors: ['gldt-'], label: 'a GitLab deploy token', pattern: `${B}gldt-[A-Za-z0-9_-]{20,}` },
  { kind: 'anthropic-admin-key', anchors: ['sk-'], label: 'an Anthropic admin key', pattern: `${B}sk-ant-admin01-[A-Za-z0-9_-]{80,110}` },
  { kind: 'anthropic-api-key', anchors: ['sk-'], label: 'an Anthropic API key', pattern: `${B}sk-ant-api03-[A-Za-z0-9_-]{80,110}` },
  { kind: 'openrouter-api-key', anchors: ['sk-'], label: 'an OpenRouter API key', pattern: `${B}sk-or-v1-[a-f0-9]{64}${E}` },
  { kind: 'openai-api-key', anchors: ['sk-'], label: 'an OpenAI API key', pattern: `${B}(?:sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${E})` },
  { kind: 'deepseek-api-key', anchors: ['sk-'], label: 'a DeepSeek API key', pattern: `${B}sk-[a-f0-9]{32}${E}` },
  { kind: 'huggingface-token', anchors: ['hf_'], label: 'a Hugging Face access token', pattern: `${B}hf_[A-Za-z]{34}${E}` },
  { kind: 'groq-api-key', anchors: ['gsk_'], label: 'a Groq API key', pattern: `${B}gsk_[A-Za-z0-9]{52}${E}` },
  { kind: 'xai-api-key', anchors: ['xai-'], label: 'an xAI API key', pattern: `${B}xai-[A-Za-z0-9]{80}${E}` },
  { kind: 'perplexity-api-key', anchors: ['pplx-'], label: 'a Perplexity API key', pattern: `${B}pplx-[A-Za-z0-9]{48}${E}` },
  { kind: 'replicate-api-token', anchors: ['r8_'], label: 'a Replicate API token', pattern: `${B}r8_[A-Za-z0-9]{37}${E}` },
  { kind: 'slack-bot-token', anchors: ['xoxb-'], label: 'a Slack bot token', pattern: `${B}xoxb-\\d{10,13}-\\d{10,13}-[A-Za-z0-9]{24}${E}` },
  { kind: 'slack-user-token', anchors: ['xoxp-', 'xoxe-'], label: 'a Slack user token', pattern: `${B}xox[pe]-(?:\\d{10,13}-){3}[a-f0-9]{32}${E}` },
  { kind: 'slack-app-token', anchors: ['xapp-'], label: 'a Slack app-level token', pattern: `${B}xapp-\\d-[A-Z0-9]{9,12}-\\d{10,13}-[a-f0-9]{64}${E}` },
  { kind: 'slack-webhook-url', anchors: ['hooks.slack.com/services/'], label: 'a Slack incoming webhook URL', pattern: 'hooks\\.slack\\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}' },
  { kind: 'stripe-secret-key', anchors: ['sk_live_', 'sk_test_', 'rk_live_', 'rk_test_'], label: 'a Stripe secret or restricted key', pattern: `${B}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,99}${E}` },
  { kind: 'twilio-api-key', anchors: HEX_DIGITS.map((h) => `SK${h}`), label: 'a Twilio API key', pattern: `${B}SK[0-9a-f]{32}${E}` },
  { kind: 'sendgrid-api-key', anchors: ['SG.'], label: 'a SendGrid API key', pattern: `${B}SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}${E}` },
  { kind: 'mailgun-api-key', anchors: ['key-'], label: 'a Mailgun API key', pattern: `${B}key-[0-9a-f]{32}${E}` },
  { kind: 'npm-token', anchors: ['npm_'], label: 'an npm access token', pattern: `${B}npm_[A-Za-z0-9]{36}${E}` },
  { kind: 'pypi-token', anchors: ['pypi-AgEIcHlwaS5vcmc'], label: 'a PyPI upload token', pattern: `${B}pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}` },
  { kind: 'docker-hub-pat', anchors: ['dckr_pat_'], label: 'a Docker Hub personal access token', pattern: `${B}dckr_pat_[A-Za-z0-9_-]{27}${E}` },
  { kind: 'shopify-token', anchors: ['shpat_', 'shpca_', 'shppa_', 'shpss_'], label: 'a Shopify access token', pattern: `${B}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}${E}` },
  { kind: 'digitalocean-token', anchors: ['dop_v1_', 'doo_v1_', 'dor_v1_'], label: 'a DigitalOcean token', pattern: `${B}do[opr]_v1_[a-f0-9]{64}${E}` },
  { kind: 'databricks-token', anchors: ['dapi'], label: 'a Databricks access token', pattern: `${B}dapi[a-f0-9]{32}(?:-\\d)?${E}` },
  { kind: 'atlassian-api-token', anchors: ['ATATT3'], label: 'an Atlassian API token', pattern: `${B}ATATT3[A-Za-z0-9_=-]{180,200}` },
  { kind: 'linear-api-key', anchors: ['lin_api_'], label: 'a Linear API key', pattern: `${B}lin_api_[A-Za-z0-9]{40}${E}` },
  { kind: 'vault-token', anchors: ['hvs.', 'hvb.'], label: 'a HashiCorp Vault token', pattern: `${B}hv[sb]\\.[A-Za-z0-9_-]{90,200}` },
  { kind: 'grafana-service-account-token', anchors: ['glsa_'], label: 'a Grafana service account token', pattern: `${B}glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}${E}` },
  { kind: 'new-relic-user-key', anchors: ['NRAK-'], label: 'a New Relic user API key', pattern: `${B}NRAK-[A-Z0-9]{27}${E}` },
  { kind: 'postman-api-key', anchors: ['PMAK-'], label: 'a Postman API key', pattern: `${B}PMAK-[a-f0-9]{24}-[a-f0-9]{34}${E}` },
  { kind: 'square-token', anchors: ['sq0atp-', 'sq0csp-'], label: 'a Square access token or secret', pattern: `${B}sq0(?:atp-[A-Za-z0-9_-]{22}|csp-[A-Za-z0-9_-]{43})${E}` },
  { kind: 'age-secret-key', anchors: ['AGE-SECRET-KEY-1'], label: 'an age encryption secret key', pattern: 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}' },
  { kind: 'telegram-bot-token', anchors: [':AA'], label: 'a Telegram bot token', pattern: '(?<=(?<![0-9])\\d{8,10}):AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])', extendLeft: /\d/ },
  { kind: 'jwt', anchors: ['eyJ'], label: 'a JSON Web Token', pattern: `${B}eyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}` },
  { kind: 'connection-string-password', anchors: ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'amqp', 'mssql', 'sqlserver', 'clickhouse'], label: 'a connection string with a password', pattern: '(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver|clickhouse)://[^\\s:/@"\']+:[^\\s:/@"\']{3,}@[^\\s/"\']+', caseInsensitive: true },
  { kind: 'url-credentials', anchors: ['http'], label: 'a URL with a password', pattern: 'https?://[^\\s:/@"\']+:[^\\s:/@"\']{6,}@[A-Za-z0-9.-]+', caseInsensitive: true },
  // Last: any specific format found at the same place wins over the generic assignment.
  CREDENTIAL_ASSIGNMENT_RULE,
];
