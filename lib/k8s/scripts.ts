/**
 * The shell the small steps run (busybox sh in the pinned curl and git images). Each script is
 * fixed text: every value reaches it through an environment variable, never by Argo substituting
 * into the script, so a parameter can never become shell code.
 *
 * DESTINATIONS is one line per destination: `name|image|status`, status being the final phase of
 * its push task (Succeeded, Failed, Error). A push step succeeds only when ferry read the
 * destination back, by tag and by digest, and found the built digest; so Succeeded means
 * "holds the image", and anything else means it may not.
 */
import { EXIT } from '../contract';
import { OUT_FILE, PATH } from './constants';

const DIGEST_RE = `^sha256:[0-9a-f]{64}$`;
const SUCCEEDED = 'Succeeded';

/** Fails unless every destination's push step succeeded (and so read the built digest back). */
export const VERIFY_SCRIPT = `
if ! printf '%s' "$EXPECTED_DIGEST" | grep -Eq '${DIGEST_RE}'; then
  echo "verify: the build reported no image digest (got '$EXPECTED_DIGEST')"
  exit 1
fi
failed=0
while IFS='|' read -r name image status; do
  [ -n "$name" ] || continue
  if [ "$status" = ${SUCCEEDED} ]; then
    echo "ok        $name  $image@$EXPECTED_DIGEST (read back by its push step)"
  else
    echo "FAILED    $name  $image: push $status; the destination may not hold $EXPECTED_DIGEST"
    failed=1
  fi
done <<EOF
$DESTINATIONS
EOF
if [ "$failed" = 0 ]; then echo "verify: every destination holds $EXPECTED_DIGEST"; fi
exit "$failed"
`.trimStart();

/**
 * Prints $1 and posts it to the Slack webhook in SLACK_WEBHOOK_URL, if there is one. The URL
 * reaches curl through its config on stdin, so it never shows in a process listing or a log line.
 */
const POST = String.raw`
post() {
  printf '%s\n' "$1"
  if [ -z "$SLACK_WEBHOOK_URL" ]; then
    echo "notify: no Slack webhook configured; this log is the notification"
    return 0
  fi
  text=$(printf '%s' "$1" | tr -d '\000-\010\013-\037' | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' | awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }')
  printf '{"text":"%s"}' "$text" > ${PATH.tmp}/message.json
  printf 'url = "%s"\n' "$SLACK_WEBHOOK_URL" | curl --silent --show-error --fail --max-time 30 --retry 3 --config - --header 'Content-Type: application/json' --data-binary @${PATH.tmp}/message.json
}
`.trimStart();

/** The delivery report, sent once every push has ended in any state. */
export const REPORT_SCRIPT = `${POST}
lines=""
while IFS='|' read -r name image status; do
  [ -n "$name" ] || continue
  if [ "$status" = ${SUCCEEDED} ]; then
    line="ok      $name: $image@$EXPECTED_DIGEST"
  else
    line="FAILED  $name: $image: push $status"
  fi
  lines="$lines
$line"
done <<EOF
$DESTINATIONS
EOF
if [ "$VERIFY_STATUS" = ${SUCCEEDED} ]; then status=Succeeded; else status=Failed; fi
post "ferry $WORKFLOW_NAME: $status
image: $IMAGE_NAME:$IMAGE_TAG
built: $EXPECTED_DIGEST$lines"
`;

/** The exit handler's alert when a run did not succeed, whatever step it stopped at. */
export const ALERT_SCRIPT = String.raw`${POST}
failed=$(printf '%s' "$FAILURES" | sed -e 's/},{/\n/g' | sed -En 's/.*"displayName":"([^"]*)".*"message":"(([^"\\]|\\.)*)".*/  \1: \2/p' | sed -e 's/\\"/"/g')
[ -n "$failed" ] || failed="  (no step reported a message; see argo get $WORKFLOW_NAME)"
[ -n "$IMAGE_TAG" ] || IMAGE_TAG="(tag from the commit)"
post "ferry $WORKFLOW_NAME: $WORKFLOW_STATUS
image: $IMAGE_NAME:$IMAGE_TAG
failed steps:
$failed"
`;

/**
 * Checks out REVISION (branch, tag or commit) of REPO into the workspace, shallow, and writes the
 * commit and the image tag (IMAGE_TAG, or the commit's first 12 characters) as outputs.
 * Exit EXIT.badInput (not retried) means bad input: a tag the registry would refuse.
 */
export const CLONE_SCRIPT = `
set -eu
shown=$(printf '%s' "$REPO" | sed 's#//[^/@]*@#//***@#')
if [ -f "$GIT_CREDENTIALS_DIR/.git-credentials" ]; then
  git config --global credential.helper "store --file=$GIT_CREDENTIALS_DIR/.git-credentials"
fi
tag="$IMAGE_TAG"
if [ -n "$tag" ] && ! printf '%s' "$tag" | grep -Eq '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'; then
  echo "clone: image_tag '$tag' is not a valid image tag (up to 128 letters, digits, _ . -, not starting with . or -)" >&2
  exit ${EXIT.badInput}
fi
rm -rf "$SOURCE_DIR"
mkdir -p "$SOURCE_DIR" "$OUT_DIR"
cd "$SOURCE_DIR"
git init --quiet
git remote add origin "$REPO"
git fetch --quiet --depth 1 origin "$REVISION"
git -c advice.detachedHead=false checkout --quiet FETCH_HEAD
commit=$(git rev-parse HEAD)
[ -n "$tag" ] || tag=$(printf '%s' "$commit" | cut -c1-12)
printf '%s' "$commit" > "$OUT_DIR/${OUT_FILE.commit}"
printf '%s' "$tag" > "$OUT_DIR/${OUT_FILE.imageTag}"
echo "clone: $shown at $REVISION is $commit; image tag $tag"
`.trimStart();
