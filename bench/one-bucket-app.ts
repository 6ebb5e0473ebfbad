/** The synth benchmark's baseline: the smallest real CDK app, synthesized the way ferry's is. */

import { parseArgs } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const app = new App({ outdir: `${values.out}/cdk.out` });
new Bucket(new Stack(app, 'baseline', { env: { account: '111111111111', region: 'us-east-1' } }), 'bucket');
app.synth();
