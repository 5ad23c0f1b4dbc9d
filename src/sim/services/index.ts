/** Every simulated service, in one list: the world schema and the middleware are built from it. */
import { service as ec2 } from './ec2/index.js';
import { service as sts } from './sts/index.js';
import { service as iam } from './iam/index.js';
import { service as autoscaling } from './autoscaling/index.js';
import { service as elbv2 } from './elbv2/index.js';
import { service as dlm } from './dlm/index.js';
import { service as support } from './support/index.js';
import { service as sns } from './sns/index.js';
import { service as s3 } from './s3/index.js';
import { service as states } from './states/index.js';
import { service as organizations } from './organizations/index.js';

export const services = [ec2, sts, iam, autoscaling, elbv2, dlm, support, sns, s3, states, organizations] as const;
